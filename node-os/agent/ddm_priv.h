/*
 * What ddm.c shares with the files of its device classes (ddm_nic.c, ddm_block.c, ddm_pci.c): the
 * class table's shape, the scan's context and the helpers a class uses.
 * Private to the agent's DDM; ddm.h is the interface.
 */
#ifndef SNOW_DDM_PRIV_H
#define SNOW_DDM_PRIV_H

#include <jansson.h>

#include "ddm.h"

/* The growing list a scan builds. */
struct ddm_list {
	struct instr_dev *dev;
	size_t n, cap;
};

/* Long operations call env->tick at least this often (the agent pats its watchdog). */
#define DDM_TICK_MS 500

/* What a class's scan sees: the node, and what it must spare. */
struct ddm_scan_ctx {
	struct ddm *d;              /* the agent's marks (block run states it keeps) */
	const struct ddm_env *env;
	const char *service;        /* the service interface's name ("" when not found) */
	struct ddm_list *l;         /* the devices found so far: append to it */
};

/*
 * A device class: what it finds under ROOT and what it can do.  Each class
 * is one const table (ddm.c or a ddm_CLASS.c), listed in ddm.c's ddm_classes[] in the order devices
 * appear in a report.  A NULL method means the class cannot do that: its
 * scan also sets the device's `cannot` reason, so the state rules refuse the
 * op before it gets here.  name is the part of the path after the class's
 * folder ("cpu0" of "cpu/cpu0").  No method keeps a pointer to its arguments.
 */
struct ddm_class_ops {
	/* The class as reports show it (instr_dev.cls). */
	const char *name;
	/*
	 * Append this class's devices (ddm_add(), owned by sc->l and freed with
	 * the scan) with their run state, stats and `cannot` reasons.  Out of
	 * memory stops the class's scan, leaving what was added.
	 */
	void (*scan)(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc);
	/*
	 * Make dev (borrowed from the last scan) online, offline or shut down
	 * (op); d's marks may change, dev's run state is seen by the next scan.
	 * @ret 0 or -errno with err filled (the kernel's word, e.g. EBUSY).
	 */
	int (*set_run)(struct ddm *d, const struct ddm_env *env, const struct instr_dev *dev,
		       const char *name, enum instr_op op, char *err, size_t errlen);
	/* The intrusive test of an offline device: result and detail into c (the caller's). */
	void (*diag)(const struct ddm_env *env, const char *name, struct instr_check *c);
	/* The non-intrusive check of a device as it runs: into c (the caller's). */
	void (*audit)(const struct ddm_env *env, const char *name, struct instr_check *c);
};

/* Write s to ROOT/rel (sysfs takes one write).  @ret 0 or -errno, err filled. */
int ddm_write(const char *root, const char *rel, const char *s, char *err, size_t errlen);
/* The last part of the link ROOT/rel points to ("" when not a link). */
void ddm_link_base(const char *root, const char *rel, char *out, size_t cap);
/* Whether ROOT/rel exists. */
int ddm_exists(const char *root, const char *rel);
/*
 * Entries of ROOT/rel whose names start with prefix, unsorted (callers sort
 * with ddm_natcmp).  @ret how many, 0 when the folder cannot be read.
 */
int ddm_list(const char *root, const char *rel, const char *prefix, char ***out);
void ddm_list_free(char **names, int n);
/* "cpu10" after "cpu9" (qsort of char *). */
int ddm_natcmp(const void *a, const void *b);
/* The agent's mark for path (kept across scans), created when asked; NULL when none. */
struct ddm_mark *ddm_mark_get(struct ddm *d, const char *path, int create);
/* Copy why into dev's reason for refusing op. */
void ddm_cannot(struct instr_dev *dev, enum instr_op op, const char *why);
/* stats[key] = v as an integer. */
void ddm_stat_num(json_t *stats, const char *key, double v);
/* A new device of class cls at fmt % name, enabled and online; NULL when out of memory. */
struct instr_dev *ddm_add(struct ddm_list *l, const struct ddm_class_ops *cls, const char *fmt,
			  const char *name);
/* The interface whose address is mac ("" when none or mac is unset). */
void ddm_if_by_mac(const struct ddm_env *env, const char *mac, char *out, size_t cap);
/* A check's result: done, pass, time and detail (printf). */
void ddm_check_set(struct instr_check *c, int pass, int64_t now, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Between the slices of a long operation: the agent's watchdog is patted. */
void ddm_tick(const struct ddm_env *env);

/* The classes in files of their own: the NIC offload engine, block devices, PCI and sensors. */
extern const struct ddm_class_ops ddm_nic_class;
extern const struct ddm_class_ops ddm_block_class;
extern const struct ddm_class_ops ddm_pci_class;
extern const struct ddm_class_ops ddm_sensor_class;

#endif
