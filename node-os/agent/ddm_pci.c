/* The agent's DDM: PCI functions and hardware sensors (hwmon) (ddm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddm_priv.h"
#include "tree.h"

/* A watchdog sits on this function (its driver registered one, or by name). */
static int ddm_has_watchdog(const char *root, const char *addr, const char *driver)
{
	char rel[160];

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/watchdog", addr);
	return ddm_exists(root, rel) || strcasestr(driver, "wdt") || strcasestr(driver, "i6300esb");
}

static void ddm_pci_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	const char *service = sc->service;
	char **names, service_pci[64] = "";
	int n, i;

	if (*service) {
		char rel[128];
		snprintf(rel, sizeof(rel), "sys/class/net/%s/device", service);
		ddm_link_base(env->root, rel, service_pci, sizeof(service_pci));
	}
	n = ddm_list(env->root, "sys/bus/pci/devices", "", &names);
	qsort(names, (size_t)n, sizeof(*names), ddm_natcmp);
	for (i = 0; i < n; i++) {
		char rel[160], driver[64], why[128], v[32];
		struct instr_dev *dev;

		dev = ddm_add(sc->l, cls, "pci/%s", names[i]);
		if (!dev)
			break;
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", names[i]);
		ddm_link_base(env->root, rel, driver, sizeof(driver));
		dev->run = driver[0] ? INSTR_ONLINE : INSTR_INACTIVE;
		ddm_cannot(dev, INSTR_OP_OFFLINE,
			   "a PCI function has no offline state: shutdown unbinds its driver");
		ddm_cannot(dev, INSTR_OP_DISABLE,
			   "a PCI function has no offline state: shutdown unbinds its driver");
		ddm_cannot(dev, INSTR_OP_DIAG, "no offline diagnostic for PCI functions");
		if (service_pci[0] && !strcmp(service_pci, names[i])) {
			snprintf(why, sizeof(why), "the service NIC %s sits on it: the node would be "
				 "cut off", service);
			ddm_cannot(dev, INSTR_OP_SHUTDOWN, why);
		} else if (ddm_has_watchdog(env->root, names[i], driver)) {
			ddm_cannot(dev, INSTR_OP_SHUTDOWN,
				   "it is the hardware watchdog the agent pats");
		}
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", names[i]);
		if (!tree_read_str(env->root, rel, v, sizeof(v))) {
			json_object_set_new(dev->stats, "class", json_string(v));
			if (!strncmp(v, "0x06", 4) && !dev->cannot[INSTR_OP_SHUTDOWN][0])
				ddm_cannot(dev, INSTR_OP_SHUTDOWN,
					   "a bridge: everything behind it would go too");
		}
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", names[i]);
		if (!tree_read_str(env->root, rel, v, sizeof(v)))
			json_object_set_new(dev->stats, "vendor", json_string(v));
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", names[i]);
		if (!tree_read_str(env->root, rel, v, sizeof(v)))
			json_object_set_new(dev->stats, "device", json_string(v));
		if (driver[0])
			json_object_set_new(dev->stats, "driver", json_string(driver));
	}
	ddm_list_free(names, n);
}

static void ddm_sensor_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	char **names;
	int n, i, k;

	n = ddm_list(env->root, "sys/class/hwmon", "hwmon", &names);
	qsort(names, (size_t)n, sizeof(*names), ddm_natcmp);
	for (i = 0; i < n; i++) {
		struct instr_dev *dev = ddm_add(sc->l, cls, "hwmon/%s", names[i]);
		static const char why[] = "a sensor has no run state to change on Linux";
		char rel[128], key[32], name[32];
		unsigned long long mc;

		if (!dev)
			break;
		ddm_cannot(dev, INSTR_OP_OFFLINE, why);
		ddm_cannot(dev, INSTR_OP_DISABLE, why);
		ddm_cannot(dev, INSTR_OP_SHUTDOWN, why);
		ddm_cannot(dev, INSTR_OP_DIAG, why);
		snprintf(rel, sizeof(rel), "sys/class/hwmon/%s/name", names[i]);
		if (!tree_read_str(env->root, rel, name, sizeof(name)))
			json_object_set_new(dev->stats, "name", json_string(name));
		for (k = 1; k <= 16; k++) {
			snprintf(rel, sizeof(rel), "sys/class/hwmon/%s/temp%d_input", names[i], k);
			if (tree_read_ull(env->root, rel, &mc))
				continue;
			snprintf(key, sizeof(key), "temp%d_c", k);
			json_object_set_new(dev->stats, key, json_real((double)mc / 1000));
		}
	}
	ddm_list_free(names, n);
}

/* Shutdown unbinds the driver; online asks the bus to probe it again. */
static int ddm_pci_set_run(struct ddm *d, const struct ddm_env *env, const struct instr_dev *dev,
			   const char *name, enum instr_op op, char *err, size_t errlen)
{
	char rel[160];

	if (op == INSTR_OP_SHUTDOWN) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver/unbind", name);
		return ddm_write(env->root, rel, name, err, errlen);
	}
	return ddm_write(env->root, "sys/bus/pci/drivers_probe", name, err, errlen);
}

/* Config space answers with the vendor id the kernel saw. */
static void ddm_pci_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char path[4096], rel[160], want[16];
	unsigned char cfg[2];
	int fd;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/config", env->root, name);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, cfg, 2) != 2 || tree_read_str(env->root, rel, want, sizeof(want))) {
		ddm_check_set(c, 0, env->now, "config space unreadable");
	} else {
		unsigned vid = (unsigned)cfg[0] | (unsigned)cfg[1] << 8;
		ddm_check_set(c, vid == strtoul(want, NULL, 16) && vid != 0xffff, env->now,
			      "config space vendor 0x%04x, sysfs %s", vid, want);
	}
	if (fd >= 0)
		close(fd);
}

static void ddm_sensor_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char rel[160];
	unsigned long long v;
	int k, got = 0;

	for (k = 1; k <= 16; k++) {
		snprintf(rel, sizeof(rel), "sys/class/hwmon/%s/temp%d_input", name, k);
		got += !tree_read_ull(env->root, rel, &v);
	}
	ddm_check_set(c, got > 0, env->now, "%d temperature input%s readable", got,
		      got == 1 ? "" : "s");
}

const struct ddm_class_ops ddm_pci_class = {
	.name = "pci",
	.scan = ddm_pci_scan,
	.set_run = ddm_pci_set_run,
	.audit = ddm_pci_audit,
};

const struct ddm_class_ops ddm_sensor_class = {
	.name = "sensor",
	.scan = ddm_sensor_scan,
	.audit = ddm_sensor_audit,
};
