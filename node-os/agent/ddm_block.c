/* The agent's DDM: block devices (disks), their read test and audit (ddm.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ddm_priv.h"
#include "sample.h"
#include "tree.h"

#define DDM_DIAG_READ_BYTES (4u << 20) /* block read test: the first 4 MiB */

/* Is /dev/NAME or one of its partitions mounted (proc/mounts)? */
static int ddm_block_mounted(const char *root, const char *name)
{
	char buf[8192], dev[64], *line, *next;
	char err[128];
	size_t len;

	if (sample_read_file(root, "proc/mounts", buf, sizeof(buf), err, sizeof(err)) < 0)
		return 0;
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	len = strlen(dev);
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (!strncmp(line, dev, len) && (line[len] == ' ' || isdigit((unsigned char)line[len]) ||
						 line[len] == 'p'))
			return 1;
	}
	return 0;
}

static void ddm_block_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	char **names;
	int n, i;

	n = ddm_list(env->root, "sys/block", "", &names);
	qsort(names, (size_t)n, sizeof(*names), ddm_natcmp);
	for (i = 0; i < n; i++) {
		char rel[160], buf[256], state[32];
		unsigned long long size, st[11];
		struct instr_dev *dev;
		struct ddm_mark *m;

		/* Loop and RAM disks are not hardware. */
		if (!strncmp(names[i], "loop", 4) || !strncmp(names[i], "ram", 3) ||
		    !strncmp(names[i], "zram", 4))
			continue;
		snprintf(rel, sizeof(rel), "sys/block/%s/size", names[i]);
		if (tree_read_ull(env->root, rel, &size))
			continue;
		dev = ddm_add(sc->l, cls, "block/%s", names[i]);
		if (!dev)
			break;
		/* SCSI disks have a real run state; others are marked by the agent. */
		snprintf(rel, sizeof(rel), "sys/block/%s/device/state", names[i]);
		if (!tree_read_str(env->root, rel, state, sizeof(state))) {
			dev->run = !strcmp(state, "running") ? INSTR_ONLINE : INSTR_OFFLINE;
		} else {
			m = ddm_mark_get(sc->d, dev->path, 0);
			dev->run = m && m->offline ? INSTR_OFFLINE : INSTR_ONLINE;
		}
		if (ddm_block_mounted(env->root, names[i]))
			ddm_cannot(dev, INSTR_OP_OFFLINE, "it has mounted filesystems: unmount first");
		ddm_cannot(dev, INSTR_OP_SHUTDOWN,
			   "shut down its controller (pci/...) to stop the driver");
		ddm_stat_num(dev->stats, "size_kb", (double)(size / 2));
		snprintf(rel, sizeof(rel), "sys/block/%s/stat", names[i]);
		if (!tree_read_str(env->root, rel, buf, sizeof(buf)) &&
		    sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu %llu", &st[0], &st[1], &st[2],
			   &st[3], &st[4], &st[5], &st[6], &st[7]) == 8) {
			ddm_stat_num(dev->stats, "reads", (double)st[0]);
			ddm_stat_num(dev->stats, "read_kb", (double)(st[2] / 2));
			ddm_stat_num(dev->stats, "writes", (double)st[4]);
			ddm_stat_num(dev->stats, "write_kb", (double)(st[6] / 2));
		}
	}
	ddm_list_free(names, n);
}

/* Read the first bytes of ROOT/dev/NAME: the block device read test. */
static void ddm_block_diag(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char path[4096], *buf;
	unsigned long long total = 0;
	long long t0 = (long long)clock_mono_ms();
	int fd;

	snprintf(path, sizeof(path), "%s/dev/%s", env->root, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ddm_check_set(c, 0, env->now, "cannot open %s: %s", path, strerror(errno));
		return;
	}
	buf = malloc(1u << 16); /* freed below */
	if (!buf) {
		close(fd);
		ddm_check_set(c, 0, env->now, "out of memory");
		return;
	}
	while (total < DDM_DIAG_READ_BYTES) {
		ssize_t n = read(fd, buf, 1u << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ddm_check_set(c, 0, env->now, "read error at byte %llu: %s", total,
				      strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (unsigned long long)n;
		ddm_tick(env);
	}
	if (!total)
		ddm_check_set(c, 0, env->now, "read 0 bytes: empty device");
	else
		ddm_check_set(c, 1, env->now, "read %llu bytes in %lld ms", total,
			      (long long)clock_mono_ms() - t0);
out:
	free(buf);
	close(fd);
}

/* SCSI disks have a run state in sysfs; for others the agent keeps a mark. */
static int ddm_block_set_run(struct ddm *d, const struct ddm_env *env,
			     const struct instr_dev *dev, const char *name, enum instr_op op,
			     char *err, size_t errlen)
{
	int up = op == INSTR_OP_ONLINE;
	struct ddm_mark *m;
	char rel[160];

	snprintf(rel, sizeof(rel), "sys/block/%s/device/state", name);
	if (ddm_exists(env->root, rel))
		return ddm_write(env->root, rel, up ? "running" : "offline", err, errlen);
	m = ddm_mark_get(d, dev->path, 1);
	if (!m)
		return -ENOMEM;
	m->offline = !up;
	return 0;
}

static void ddm_block_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char rel[160];
	unsigned long long v;

	snprintf(rel, sizeof(rel), "sys/block/%s/size", name);
	if (tree_read_ull(env->root, rel, &v) || !v)
		ddm_check_set(c, 0, env->now, "size unreadable or 0");
	else
		ddm_check_set(c, 1, env->now, "%llu sectors", v);
}

const struct ddm_class_ops ddm_block_class = {
	.name = "block",
	.scan = ddm_block_scan,
	.set_run = ddm_block_set_run,
	.diag = ddm_block_diag,
	.audit = ddm_block_audit,
};
