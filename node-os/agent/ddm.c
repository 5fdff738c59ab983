#include "ddm.h"
#include "xcvr.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sample.h"
#include "tree.h"
#include "ddm_priv.h"

/* ---- helpers --------------------------------------------------------------- */

/* Copy with truncation (the reasons are ours and short; never overflow). */
static void ddm_copy(char *dst, size_t cap, const char *src)
{
	size_t l = strlen(src);

	if (l >= cap)
		l = cap - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

void ddm_cannot(struct instr_dev *dev, enum instr_op op, const char *why)
{
	ddm_copy(dev->cannot[op], sizeof(dev->cannot[op]), why);
}

/* Write s to ROOT/rel (sysfs takes one write).  @ret 0 or -errno, err filled. */
int ddm_write(const char *root, const char *rel, const char *s, char *err, size_t errlen)
{
	char path[4096];
	size_t len = strlen(s);
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	/* O_TRUNC matters only for fixture trees; sysfs ignores it. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	n = write(fd, s, len);
	if (n != (ssize_t)len) {
		rc = n < 0 ? -errno : -EIO;
		snprintf(err, errlen, "writing '%s' to %s: %s", s, path,
			 n < 0 ? strerror(errno) : "short write");
		close(fd);
		return rc;
	}
	if (close(fd)) {
		rc = -errno;
		snprintf(err, errlen, "writing '%s' to %s: %s", s, path, strerror(errno));
		return rc;
	}
	return 0;
}

int ddm_exists(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

/* Basename of the link ROOT/rel ("" when it is no link). */
void ddm_link_base(const char *root, const char *rel, char *out, size_t cap)
{
	char path[4096], target[4096];
	ssize_t n;
	const char *b;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	b = strrchr(target, '/');
	ddm_copy(out, cap, b ? b + 1 : target);
}

void ddm_stat_num(json_t *stats, const char *key, double v)
{
	json_object_set_new(stats, key, json_integer((json_int_t)v));
}

/* Directory entries of ROOT/rel whose names start with prefix (unsorted). */
int ddm_list(const char *root, const char *rel, const char *prefix, char ***out)
{
	char path[4096];
	struct dirent *de;
	char **names = NULL;
	int n = 0, cap = 0;
	DIR *d;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	*out = names;
	return n;
}

void ddm_list_free(char **names, int n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* "cpu10" after "cpu9": compare the number after a common prefix. */
int ddm_natcmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	while (*x && *x == *y && !isdigit((unsigned char)*x))
		x++, y++;
	if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
		unsigned long nx = strtoul(x, NULL, 10), ny = strtoul(y, NULL, 10);
		if (nx != ny)
			return nx < ny ? -1 : 1;
	}
	return strcmp(x, y);
}

struct ddm_mark *ddm_mark_get(struct ddm *d, const char *path, int create)
{
	size_t i;

	for (i = 0; i < d->nmarks; i++)
		if (!strcmp(d->marks[i].path, path))
			return &d->marks[i];
	if (!create)
		return NULL;
	if (d->nmarks == d->capmarks) {
		size_t cap = d->capmarks ? d->capmarks * 2 : 16;
		struct ddm_mark *m = realloc(d->marks, cap * sizeof(*m));
		if (!m)
			return NULL;
		d->marks = m;
		d->capmarks = cap;
	}
	memset(&d->marks[d->nmarks], 0, sizeof(d->marks[0]));
	snprintf(d->marks[d->nmarks].path, sizeof(d->marks[0].path), "%s", path);
	return &d->marks[d->nmarks++];
}

/* A new device of class cls at fmt % name, enabled and online; NULL when out of memory. */
struct instr_dev *ddm_add(struct ddm_list *l, const struct ddm_class_ops *cls, const char *fmt,
			  const char *name)
{
	struct instr_dev *dev;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct instr_dev *nd = realloc(l->dev, cap * sizeof(*nd));
		if (!nd)
			return NULL;
		l->dev = nd;
		l->cap = cap;
	}
	dev = &l->dev[l->n++];
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->path, sizeof(dev->path), fmt, name);
	snprintf(dev->cls, sizeof(dev->cls), "%s", cls->name);
	dev->avail = INSTR_ENABLED;
	dev->run = INSTR_ONLINE;
	dev->stats = json_object();
	return dev;
}

/* The interface whose address is mac ("" when none or mac is unset). */
void ddm_if_by_mac(const struct ddm_env *env, const char *mac, char *out, size_t cap)
{
	char **names;
	int n, i;

	out[0] = '\0';
	if (!mac || !*mac)
		return;
	n = ddm_list(env->root, "sys/class/net", "", &names);
	for (i = 0; i < n; i++) {
		char rel[128], addr[32];
		snprintf(rel, sizeof(rel), "sys/class/net/%s/address", names[i]);
		if (!tree_read_str(env->root, rel, addr, sizeof(addr)) &&
		    !strcasecmp(addr, mac)) {
			snprintf(out, cap, "%s", names[i]);
			break;
		}
	}
	ddm_list_free(names, n);
}

/* The service interface: the one whose address is the service MAC. */
static void ddm_service_if(const struct ddm_env *env, char *out, size_t cap)
{
	ddm_if_by_mac(env, env->service_mac, out, cap);
}

/* ---- classes ----------------------------------------------------------------- */

static void ddm_cpu_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	char **names, *stat = malloc(SAMPLE_MAX_FILE);
	char err[256];
	long hz = sysconf(_SC_CLK_TCK);
	int n, i;

	if (hz <= 0)
		hz = 100;
	if (stat && sample_read_file(env->root, "proc/stat", stat, SAMPLE_MAX_FILE, err,
				     sizeof(err)) < 0)
		stat[0] = '\0';
	n = ddm_list(env->root, "sys/devices/system/cpu", "cpu", &names);
	qsort(names, (size_t)n, sizeof(*names), ddm_natcmp);
	for (i = 0; i < n; i++) {
		char rel[128], v[16], pat[32], why[96], *p;
		struct instr_dev *dev;
		unsigned long long u, ni, s, id, io;

		if (strspn(names[i] + 3, "0123456789") != strlen(names[i] + 3) || !names[i][3])
			continue;
		dev = ddm_add(sc->l, cls, "cpu/%s", names[i]);
		if (!dev)
			break;
		snprintf(rel, sizeof(rel), "sys/devices/system/cpu/%s/online", names[i]);
		if (!tree_read_str(env->root, rel, v, sizeof(v))) {
			dev->run = v[0] == '1' ? INSTR_ONLINE : INSTR_OFFLINE;
		} else {
			/* No online file: the kernel will not hot-unplug this one. */
			snprintf(why, sizeof(why), "%.8s has no online file: the kernel cannot "
				 "take it offline (the boot CPU)", names[i]);
			ddm_cannot(dev, INSTR_OP_OFFLINE, why);
			ddm_cannot(dev, INSTR_OP_DISABLE, why);
		}
		ddm_cannot(dev, INSTR_OP_SHUTDOWN,
			   "a CPU has no driver to shut down: take it offline instead");
		ddm_cannot(dev, INSTR_OP_DIAG,
			   "Linux cannot run a test on an offline CPU: use audit while it is online");
		snprintf(pat, sizeof(pat), "\n%s ", names[i]);
		if (stat && (p = strstr(stat, pat)) &&
		    sscanf(p + strlen(pat), "%llu %llu %llu %llu %llu", &u, &ni, &s, &id, &io) == 5) {
			ddm_stat_num(dev->stats, "user_ms", (double)((u + ni) * 1000 / (unsigned long long)hz));
			ddm_stat_num(dev->stats, "system_ms", (double)(s * 1000 / (unsigned long long)hz));
			ddm_stat_num(dev->stats, "idle_ms", (double)(id * 1000 / (unsigned long long)hz));
			ddm_stat_num(dev->stats, "iowait_ms", (double)(io * 1000 / (unsigned long long)hz));
		}
	}
	ddm_list_free(names, n);
	free(stat);
}

static void ddm_memory_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	unsigned long long bs = 0;
	char **names;
	int n, i;

	/* block_size_bytes is hex without the 0x. */
	{
		char buf[32];
		if (!tree_read_str(env->root, "sys/devices/system/memory/block_size_bytes", buf,
				   sizeof(buf)))
			bs = strtoull(buf, NULL, 16);
	}
	n = ddm_list(env->root, "sys/devices/system/memory", "memory", &names);
	qsort(names, (size_t)n, sizeof(*names), ddm_natcmp);
	for (i = 0; i < n; i++) {
		char rel[128], state[32];
		unsigned long long removable = 1;
		struct instr_dev *dev;

		snprintf(rel, sizeof(rel), "sys/devices/system/memory/%s/state", names[i]);
		if (tree_read_str(env->root, rel, state, sizeof(state)))
			continue;
		dev = ddm_add(sc->l, cls, "memory/%s", names[i]);
		if (!dev)
			break;
		dev->run = !strcmp(state, "online") ? INSTR_ONLINE : INSTR_OFFLINE;
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/%s/removable", names[i]);
		if (!tree_read_ull(env->root, rel, &removable) && !removable)
			ddm_cannot(dev, INSTR_OP_OFFLINE,
				   "the kernel says this memory block is not removable");
		ddm_cannot(dev, INSTR_OP_SHUTDOWN,
			   "memory has no driver to shut down: take the block offline instead");
		ddm_cannot(dev, INSTR_OP_DIAG, "no memory test on Linux for an offline block");
		if (bs)
			ddm_stat_num(dev->stats, "size_kb", (double)(bs / 1024));
	}
	ddm_list_free(names, n);
}

static void ddm_net_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	const char *service = sc->service;
	static const char *const stat_names[] = { "rx_bytes", "rx_packets", "rx_errors",
						  "rx_dropped", "tx_bytes", "tx_packets",
						  "tx_errors", "tx_dropped", NULL };
	char **names;
	int n, i;

	n = ddm_list(env->root, "sys/class/net", "", &names);
	qsort(names, (size_t)n, sizeof(*names), ddm_natcmp);
	for (i = 0; i < n; i++) {
		char rel[160], why[96];
		unsigned long long flags, v;
		const char *const *s;
		struct instr_dev *dev;

		if (!strcmp(names[i], "lo"))
			continue;
		snprintf(rel, sizeof(rel), "sys/class/net/%s/flags", names[i]);
		if (tree_read_ull(env->root, rel, &flags))
			continue;
		dev = ddm_add(sc->l, cls, "net/%s", names[i]);
		if (!dev)
			break;
		dev->run = (flags & 1) ? INSTR_ONLINE : INSTR_OFFLINE; /* IFF_UP */
		if (!strcmp(service, names[i])) {
			snprintf(why, sizeof(why),
				 "%s carries the agent's link to snowd: down, the node is cut off",
				 names[i]);
			ddm_cannot(dev, INSTR_OP_OFFLINE, why);
			ddm_cannot(dev, INSTR_OP_DISABLE, why);
		}
		ddm_cannot(dev, INSTR_OP_SHUTDOWN,
			   "shut down its PCI function (pci/...) or take the interface offline");
		ddm_cannot(dev, INSTR_OP_DIAG, "no offline diagnostic for network interfaces");
		for (s = stat_names; *s; s++) {
			snprintf(rel, sizeof(rel), "sys/class/net/%s/statistics/%s", names[i], *s);
			if (!tree_read_ull(env->root, rel, &v))
				ddm_stat_num(dev->stats, *s, (double)v);
		}
		snprintf(rel, sizeof(rel), "sys/class/net/%s/mtu", names[i]);
		if (!tree_read_ull(env->root, rel, &v))
			ddm_stat_num(dev->stats, "mtu", (double)v);
		snprintf(rel, sizeof(rel), "sys/class/net/%s/speed", names[i]);
		if (!tree_read_ull(env->root, rel, &v) && v < 10000000)
			ddm_stat_num(dev->stats, "speed_mbps", (double)v);
		snprintf(rel, sizeof(rel), "sys/class/net/%s/carrier", names[i]);
		if (dev->run == INSTR_ONLINE && !tree_read_ull(env->root, rel, &v))
			ddm_stat_num(dev->stats, "carrier", (double)v);
	}
	ddm_list_free(names, n);
}

/* xcvr_each()'s context: where the modules go. */
struct ddm_xcvr_ctx {
	const struct ddm_class_ops *cls;
	struct ddm_list *l;
};

/* Optical modules with SFF-8472 diagnostics are devices of their own. */
static void ddm_xcvr_one(void *ctx, const char *ifname, const struct sff8472_diag *d)
{
	const struct ddm_xcvr_ctx *x = ctx;
	struct instr_dev *dev = ddm_add(x->l, x->cls, "xcvr/%s", ifname);
	int k;

	if (!dev)
		return;
	dev->run = INSTR_ONLINE;
	for (k = 0; k < SFF_ITEMS; k++)
		ddm_stat_num(dev->stats, d->r[k].name, d->r[k].value);
	json_object_set_new(dev->stats, "vendor", json_string(d->vendor));
	json_object_set_new(dev->stats, "part", json_string(d->part));
	json_object_set_new(dev->stats, "serial", json_string(d->serial));
	ddm_cannot(dev, INSTR_OP_OFFLINE, "a module has no power control here: take its interface offline");
	ddm_cannot(dev, INSTR_OP_SHUTDOWN, "a module has no power control here");
	ddm_cannot(dev, INSTR_OP_DIAG, "no intrusive test for a module; audit reads its diagnostics");
}

static void ddm_xcvr_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	struct ddm_xcvr_ctx x = { cls, sc->l };

	xcvr_each(sc->env->root, ddm_xcvr_one, &x);
}


static void ddm_emit(const struct ddm_env *env, const struct instr_dev *now,
		     const struct instr_dev *was, const char *cause)
{
	const struct instr_dev *d = now ? now : was;
	json_t *a;

	if (!env->emit)
		return;
	a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "path", d->path, "class", d->cls,
		      "avail", now ? instr_avail_name(now->avail) : "absent", "run",
		      now ? instr_run_name(now->run) : "absent", "was_avail",
		      was ? instr_avail_name(was->avail) : "absent", "was_run",
		      was ? instr_run_name(was->run) : "absent", "cause", cause);
	if (a)
		env->emit(env->ctx, INSTR_EV_DEVICE_STATE, a);
}

static void ddm_devs_free(struct instr_dev *dev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		instr_dev_clear(&dev[i]);
	free(dev);
}

struct instr_dev *ddm_find(struct ddm *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->dev[i].path, path))
			return &d->dev[i];
	return NULL;
}

/* ---- operations -------------------------------------------------------------- */

void ddm_check_set(struct instr_check *c, int pass, int64_t now, const char *fmt, ...)
{
	va_list ap;

	c->done = 1;
	c->pass = pass;
	c->time = now;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* Between the slices of a long operation: the agent's watchdog is patted. */
void ddm_tick(const struct ddm_env *env)
{
	if (env->tick)
		env->tick(env->ctx);
}

/* Run a little on the CPU itself: the non-intrusive audit of a CPU. */
static void ddm_cpu_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char buf[256];
	unsigned long long mask;
	unsigned cpu = (unsigned)strtoul(name + 3, NULL, 10);
	int listed = 0;

	if (!tree_read_str(env->root, "sys/devices/system/cpu/online", buf, sizeof(buf)) &&
	    tree_cpu_list(buf, &mask) > 0 && cpu < 64)
		listed = (int)((mask >> cpu) & 1);
	if (!listed) {
		ddm_check_set(c, 0, env->now, "%s is not in the kernel's online list", name);
		return;
	}
	if (env->root[0]) {
		ddm_check_set(c, 1, env->now, "%s listed online (fixture root: not run on it)",
			      name);
		return;
	}
	{
		cpu_set_t old, one;
		int ran;
		volatile unsigned long x = 0;
		unsigned long i;

		if (sched_getaffinity(0, sizeof(old), &old)) {
			ddm_check_set(c, 0, env->now, "sched_getaffinity: %s", strerror(errno));
			return;
		}
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one)) {
			ddm_check_set(c, 0, env->now, "cannot run on %s: %s", name, strerror(errno));
			return;
		}
		for (i = 0; i < 100000; i++)
			x += i;
		ran = sched_getcpu();
		sched_setaffinity(0, sizeof(old), &old);
		if (ran != (int)cpu)
			ddm_check_set(c, 0, env->now, "asked for %s, ran on cpu%d", name, ran);
		else
			ddm_check_set(c, 1, env->now, "ran on %s", name);
	}
}

/* Audit: every reading inside the module's own alarm limits. */
static void ddm_xcvr_audit(const struct ddm_env *env, const char *ifname, struct instr_check *c)
{
	struct sff8472_diag d;
	char err[160], bad[160] = "";
	int k;

	if (xcvr_read(env->root, ifname, &d, err, sizeof(err))) {
		ddm_check_set(c, 0, env->now, "diagnostics unreadable");
		return;
	}
	for (k = 0; k < SFF_ITEMS; k++)
		if (d.r[k].value > d.r[k].high_alarm || d.r[k].value < d.r[k].low_alarm)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s %.3g", *bad ? ", " : "",
				 d.r[k].name, d.r[k].value);
	if (*bad)
		ddm_check_set(c, 0, env->now, "outside alarm limits: %s", bad);
	else
		ddm_check_set(c, 1, env->now, "all %d readings inside the module's alarm limits",
			      SFF_ITEMS);
}

/* ---- the classes' operations ------------------------------------------------ */

static int ddm_cpu_set_run(struct ddm *d, const struct ddm_env *env, const struct instr_dev *dev,
			   const char *name, enum instr_op op, char *err, size_t errlen)
{
	char rel[160];

	snprintf(rel, sizeof(rel), "sys/devices/system/cpu/%s/online", name);
	return ddm_write(env->root, rel, op == INSTR_OP_ONLINE ? "1" : "0", err, errlen);
}

static int ddm_memory_set_run(struct ddm *d, const struct ddm_env *env,
			      const struct instr_dev *dev, const char *name, enum instr_op op,
			      char *err, size_t errlen)
{
	char rel[160];

	snprintf(rel, sizeof(rel), "sys/devices/system/memory/%s/state", name);
	return ddm_write(env->root, rel, op == INSTR_OP_ONLINE ? "online" : "offline", err,
			 errlen);
}

static void ddm_memory_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char rel[160], buf[64];

	snprintf(rel, sizeof(rel), "sys/devices/system/memory/%s/state", name);
	if (tree_read_str(env->root, rel, buf, sizeof(buf)))
		ddm_check_set(c, 0, env->now, "state unreadable");
	else
		ddm_check_set(c, !strcmp(buf, "online"), env->now, "state %s", buf);
}

/* IFF_UP through sysfs flags. */
static int ddm_net_set_run(struct ddm *d, const struct ddm_env *env, const struct instr_dev *dev,
			   const char *name, enum instr_op op, char *err, size_t errlen)
{
	char rel[160], v[32];
	unsigned long long flags;
	int rc;

	snprintf(rel, sizeof(rel), "sys/class/net/%s/flags", name);
	rc = tree_read_ull(env->root, rel, &flags);
	if (rc) {
		snprintf(err, errlen, "%s: cannot read flags", dev->path);
		return rc;
	}
	flags = op == INSTR_OP_ONLINE ? flags | 1 : flags & ~1ull;
	snprintf(v, sizeof(v), "0x%llx", flags);
	return ddm_write(env->root, rel, v, err, errlen);
}

static void ddm_net_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char rel[160], oper[32] = "?";
	unsigned long long v;

	snprintf(rel, sizeof(rel), "sys/class/net/%s/operstate", name);
	tree_read_str(env->root, rel, oper, sizeof(oper));
	snprintf(rel, sizeof(rel), "sys/class/net/%s/carrier", name);
	if (tree_read_ull(env->root, rel, &v))
		ddm_check_set(c, 0, env->now, "carrier unreadable (operstate %s)", oper);
	else if (!v)
		ddm_check_set(c, 0, env->now, "no carrier (operstate %s)", oper);
	else
		ddm_check_set(c, 1, env->now, "carrier up (operstate %s)", oper);
}

static const struct ddm_class_ops ddm_cpu_class = {
	.name = "cpu",
	.scan = ddm_cpu_scan,
	.set_run = ddm_cpu_set_run,
	.audit = ddm_cpu_audit,
};

static const struct ddm_class_ops ddm_memory_class = {
	.name = "memory",
	.scan = ddm_memory_scan,
	.set_run = ddm_memory_set_run,
	.audit = ddm_memory_audit,
};

static const struct ddm_class_ops ddm_net_class = {
	.name = "net",
	.scan = ddm_net_scan,
	.set_run = ddm_net_set_run,
	.audit = ddm_net_audit,
};

static const struct ddm_class_ops ddm_xcvr_class = {
	.name = "transceiver",
	.scan = ddm_xcvr_scan,
	.audit = ddm_xcvr_audit,
};

/* Every class, in the order their devices are listed (transceivers after their NICs). */
static const struct ddm_class_ops *const ddm_classes[] = {
	&ddm_cpu_class,   &ddm_memory_class, &ddm_net_class,    &ddm_xcvr_class,
	&ddm_block_class, &ddm_pci_class,    &ddm_sensor_class, &ddm_nic_class,
};

/* The class of a device of the last scan (its cls came from this table). */
static const struct ddm_class_ops *ddm_class_of(const struct instr_dev *dev)
{
	size_t i;

	for (i = 0; i < sizeof(ddm_classes) / sizeof(ddm_classes[0]); i++)
		if (!strcmp(ddm_classes[i]->name, dev->cls))
			return ddm_classes[i];
	return NULL;
}

/* ---- scan and operations ------------------------------------------------------ */

int ddm_scan(struct ddm *d, const struct ddm_env *env, const char *cause)
{
	struct ddm_list l = { NULL, 0, 0 };
	char service[64];
	struct ddm_scan_ctx sc = { d, env, service, &l };
	size_t i, j;

	ddm_service_if(env, service, sizeof(service));
	for (i = 0; i < sizeof(ddm_classes) / sizeof(ddm_classes[0]); i++)
		ddm_classes[i]->scan(ddm_classes[i], &sc);
	/* What the agent keeps: availability and the last diag/audit. */
	for (i = 0; i < l.n; i++) {
		struct ddm_mark *m = ddm_mark_get(d, l.dev[i].path, 0);
		if (!m)
			continue;
		if (m->disabled)
			l.dev[i].avail = INSTR_DISABLED;
		l.dev[i].diag = m->diag;
		l.dev[i].audit = m->audit;
	}
	if (d->scanned) {
		for (i = 0; i < l.n; i++) {
			struct instr_dev *was = ddm_find(d, l.dev[i].path);
			if (!was)
				ddm_emit(env, &l.dev[i], NULL, cause);
			else if (was->avail != l.dev[i].avail || was->run != l.dev[i].run)
				ddm_emit(env, &l.dev[i], was, cause);
		}
		for (j = 0; j < d->n; j++) {
			for (i = 0; i < l.n && strcmp(l.dev[i].path, d->dev[j].path); i++)
				;
			if (i == l.n)
				ddm_emit(env, NULL, &d->dev[j], cause);
		}
	}
	ddm_devs_free(d->dev, d->n);
	d->dev = l.dev;
	d->n = l.n;
	d->scanned = 1;
	return 0;
}

int ddm_op(struct ddm *d, const struct ddm_env *env, const char *path, enum instr_op op,
	   json_t **result, char *err, size_t errlen)
{
	const struct ddm_class_ops *cls;
	struct instr_dev *dev;
	struct ddm_mark *m;
	const char *name;
	char why[256];
	int rc;

	*result = NULL;
	rc = ddm_scan(d, env, "observed"); /* decide on the current state */
	if (rc) {
		snprintf(err, errlen, "device scan: out of memory");
		return rc;
	}
	dev = ddm_find(d, path);
	if (!dev) {
		snprintf(err, errlen, "path: '%s' is not a device of this node", path);
		return -ENOENT;
	}
	if (instr_dev_refusal(dev, op, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return -EPERM;
	}
	cls = ddm_class_of(dev);
	name = strchr(dev->path, '/') + 1;
	m = ddm_mark_get(d, path, 1);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	switch (op) {
	case INSTR_OP_ENABLE:
	case INSTR_OP_DISABLE:
		m->disabled = op == INSTR_OP_DISABLE;
		break;
	case INSTR_OP_ONLINE:
	case INSTR_OP_OFFLINE:
	case INSTR_OP_SHUTDOWN:
		if (!cls || !cls->set_run) {
			snprintf(err, errlen, "%s: cannot %s: not supported for class %s", dev->path,
				 instr_op_name(op), dev->cls);
			rc = -EPERM;
		} else {
			rc = cls->set_run(d, env, dev, name, op, err, errlen);
		}
		if (rc) {
			/* The kernel's word, e.g. EBUSY for memory in use. */
			char inner[256];
			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "%s: %s failed: %s", path, instr_op_name(op), inner);
			return rc;
		}
		break;
	case INSTR_OP_DIAG:
		if (!cls || !cls->diag) {
			/* Its scan said why (cannot[diag]): the state rules stop it first. */
			snprintf(err, errlen, "%s: cannot diag: not supported for class %s", path,
				 dev->cls);
			return -EPERM;
		}
		cls->diag(env, name, &m->diag);
		*result = json_pack("{s:s, s:s}", "result", m->diag.pass ? "pass" : "fail",
				    "detail", m->diag.detail);
		break;
	case INSTR_OP_AUDIT:
		if (!cls || !cls->audit) {
			snprintf(err, errlen, "%s: cannot audit: not supported for class %s", path,
				 dev->cls);
			return -EPERM;
		}
		cls->audit(env, name, &m->audit);
		*result = json_pack("{s:s, s:s}", "result", m->audit.pass ? "pass" : "fail",
				    "detail", m->audit.detail);
		break;
	default:
		snprintf(err, errlen, "%s: unknown operation", path);
		return -EINVAL;
	}
	rc = ddm_scan(d, env, instr_op_name(op));
	if (rc) {
		snprintf(err, errlen, "device scan: out of memory");
		return rc;
	}
	if (!*result) {
		dev = ddm_find(d, path);
		*result = dev ? json_pack("{s:s, s:s}", "avail", instr_avail_name(dev->avail), "run",
					  instr_run_name(dev->run))
			      : json_pack("{s:s}", "run", "absent");
	}
	return 0;
}

json_t *ddm_json(const struct ddm *d)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < d->n; i++) {
		if (json_array_append_new(a, instr_dev_to_json(&d->dev[i]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

void ddm_free(struct ddm *d)
{
	ddm_devs_free(d->dev, d->n);
	free(d->marks);
	memset(d, 0, sizeof(d[0]));
}
