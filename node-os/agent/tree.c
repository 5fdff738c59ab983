#include "tree.h"
#include "xcvr.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "nicst.h"
#include "sample.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* OIDs of sample.c's values, indexed by enum sample_id. */
static const char *const tree_sample_oids[SAMPLE_COUNT] = {
	[SAMPLE_UPTIME_S] = "1.1",     [SAMPLE_LOAD1] = "7.1",       [SAMPLE_LOAD5] = "7.2",
	[SAMPLE_LOAD15] = "7.3",       [SAMPLE_MEM_TOTAL_KB] = "2.1", [SAMPLE_MEM_FREE_KB] = "2.2",
	[SAMPLE_MEM_AVAIL_KB] = "2.3", [SAMPLE_PROCS] = "3.1",
};

/* Set one value; the definition is built here so readers stay one line each. */
static void tree_put(struct instr_tree *t, const char *name, const char *oid,
		     enum instr_kind kind, const char *unit, const char *desc, int integer,
		     double v)
{
	/*
	 * Counters of events (bytes, packets, faults, interrupts) may be reset
	 * (counters.reset); those of time since boot (s, ms) may not: they are
	 * clocks, and a console computes rates from them.
	 */
	struct instr_def d = { .kind = kind, .integer = integer,
			       .resettable = kind == INSTR_COUNTER && strcmp(unit, "s") &&
					     strcmp(unit, "ms") };

	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.oid, sizeof(d.oid), "%s", oid);
	snprintf(d.unit, sizeof(d.unit), "%s", unit);
	snprintf(d.desc, sizeof(d.desc), "%s", desc);
	/* Only a name we built wrong or ENOMEM fail here: the value is left out. */
	(void)instr_tree_set(t, &d, v);
}

int tree_read_str(const char *root, const char *rel, char *buf, size_t cap)
{
	char err[256];
	long n = sample_read_file(root, rel, buf, cap, err, sizeof(err));

	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int tree_read_ull(const char *root, const char *rel, unsigned long long *out)
{
	char buf[64], *end;
	int rc = tree_read_str(root, rel, buf, sizeof(buf));

	if (rc)
		return rc;
	if (!isdigit((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoull(buf, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int tree_cpu_list(const char *s, unsigned long long *mask)
{
	int count = 0;

	if (mask)
		*mask = 0;
	while (*s && *s != '\n') {
		char *end;
		unsigned long a, b;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		a = strtoul(s, &end, 10);
		b = a;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
		}
		if (b < a || b - a > 8192)
			return -EINVAL;
		count += (int)(b - a + 1);
		for (; mask && a <= b && a < 64; a++)
			*mask |= 1ull << a;
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return count;
}

/* The values sample.c reads strictly (uptime, load, memory, processes). */
static int tree_from_sample(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	struct sample_set s;
	int rc = sample_read_all(root, &s, err, errlen);
	int i;

	for (i = 0; i < SAMPLE_COUNT; i++) {
		const struct sample_def *d = &sample_defs[i];
		if (s.valid & (1u << i))
			tree_put(t, d->name, tree_sample_oids[i], (enum instr_kind)d->kind, d->unit,
				 d->desc, d->integer, s.v[i]);
	}
	return rc;
}

/* "Key: N kB" lines of meminfo beyond the three sample.c checks. */
static int tree_meminfo(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	static const struct {
		const char *key, *name, *oid, *desc;
		enum instr_kind kind;
	} keys[] = {
		{ "Buffers", "kern.mem.buffers_kb", "2.8", "block device buffers", INSTR_GAUGE },
		{ "Cached", "kern.mem.cached_kb", "2.9", "page cache", INSTR_GAUGE },
		{ "Shmem", "kern.mem.shmem_kb", "2.10", "shared memory and tmpfs", INSTR_GAUGE },
		{ "Slab", "kern.mem.slab_kb", "2.12", "kernel slab allocations", INSTR_GAUGE },
		{ "KernelStack", "kern.mem.kstack_kb", "2.13", "kernel stacks", INSTR_GAUGE },
		{ "PageTables", "kern.mem.pagetables_kb", "2.14", "page tables", INSTR_GAUGE },
		{ "Committed_AS", "kern.mem.committed_kb", "2.15", "memory committed to processes",
		  INSTR_GAUGE },
		{ "SwapTotal", "vm.swap.total_kb", "7.4", "swap space", INSTR_GAUGE },
		{ "SwapFree", "vm.swap.free_kb", "7.5", "swap space unused", INSTR_GAUGE },
	};
	double v[ARRAY_LEN(keys)];
	unsigned found = 0;
	char *buf, *line, *next;
	long n;
	size_t i;
	long page = sysconf(_SC_PAGESIZE);
	struct instr_value *x;

	buf = malloc(SAMPLE_MAX_FILE); /* freed below */
	if (!buf)
		return -ENOMEM;
	n = sample_read_file(root, "proc/meminfo", buf, SAMPLE_MAX_FILE, err, errlen);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		for (i = 0; i < ARRAY_LEN(keys); i++) {
			size_t kl = strlen(keys[i].key);
			unsigned long long kb;
			if (strncmp(line, keys[i].key, kl) || line[kl] != ':')
				continue;
			if (sscanf(line + kl + 1, "%llu kB", &kb) == 1) {
				v[i] = (double)kb;
				found |= 1u << i;
			}
		}
	}
	free(buf);
	for (i = 0; i < ARRAY_LEN(keys); i++)
		if (found & (1u << i))
			tree_put(t, keys[i].name, keys[i].oid, keys[i].kind, "KiB", keys[i].desc, 1,
				 v[i]);
	/* Supervisor memory, as ChorusOS counts it: what the kernel holds for itself. */
	if ((found & (1u << 3)) && (found & (1u << 4)) && (found & (1u << 5)))
		tree_put(t, "kern.mem.kernel_kb", "2.11", INSTR_GAUGE, "KiB",
			 "kernel memory: slab, stacks, page tables", 1, v[3] + v[4] + v[5]);
	/* Pages, as ChorusOS counts memory. */
	if (page > 0) {
		double kpp = (double)page / 1024;
		tree_put(t, "kern.mem.page_size", "2.4", INSTR_ATTRIBUTE, "bytes",
			 "memory page size", 1, (double)page);
		if ((x = instr_tree_find(t, "kern.mem.total_kb")) && x->valid)
			tree_put(t, "kern.mem.pages_total", "2.5", INSTR_ATTRIBUTE, "pages",
				 "memory pages the kernel manages", 1, (double)(long long)(x->v / kpp));
		if ((x = instr_tree_find(t, "kern.mem.free_kb")) && x->valid)
			tree_put(t, "kern.mem.pages_free", "2.6", INSTR_GAUGE, "pages",
				 "memory pages unused", 1, (double)(long long)(x->v / kpp));
		if ((x = instr_tree_find(t, "kern.mem.avail_kb")) && x->valid)
			tree_put(t, "kern.mem.pages_avail", "2.7", INSTR_GAUGE, "pages",
				 "memory pages available without swapping", 1,
				 (double)(long long)(x->v / kpp));
	}
	return 0;
}

/* proc/stat: CPU time, context switches, interrupts, forks, run queue. */
static int tree_stat(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	static const char *const cpu_names[] = { "user",    "nice", "system",  "idle",
						 "iowait",  "irq",  "softirq", "steal" };
	static const char *const cpu_descs[] = {
		"CPU time in user mode, all CPUs",   "CPU time in niced user mode, all CPUs",
		"CPU time in the kernel, all CPUs",  "CPU time idle, all CPUs",
		"CPU time waiting for I/O, all CPUs", "CPU time serving interrupts, all CPUs",
		"CPU time in soft interrupts, all CPUs", "CPU time stolen by the hypervisor",
	};
	static const struct {
		const char *key, *name, *oid, *desc;
		enum instr_kind kind;
	} keys[] = {
		{ "ctxt", "kern.ctxt", "5.1", "context switches since boot", INSTR_COUNTER },
		{ "intr", "kern.intr", "5.2", "interrupts since boot", INSTR_COUNTER },
		{ "softirq", "kern.softirqs", "5.3", "soft interrupts since boot", INSTR_COUNTER },
		{ "processes", "kern.procs.forks", "3.5", "processes created since boot",
		  INSTR_COUNTER },
		{ "procs_running", "kern.procs.running", "3.3", "threads runnable", INSTR_GAUGE },
		{ "procs_blocked", "kern.procs.blocked", "3.4", "threads blocked on I/O",
		  INSTR_GAUGE },
		{ "btime", "sys.boot_time", "1.2", "boot time, Unix seconds", INSTR_ATTRIBUTE },
	};
	long hz = sysconf(_SC_CLK_TCK);
	char *buf, *line, *next;
	long n;
	size_t i;

	if (hz <= 0)
		hz = 100;
	buf = malloc(SAMPLE_MAX_FILE); /* freed below */
	if (!buf)
		return -ENOMEM;
	n = sample_read_file(root, "proc/stat", buf, SAMPLE_MAX_FILE, err, errlen);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	for (line = buf; *line; line = next) {
		unsigned long long v[8] = { 0 }, x;
		char name[32], oid[16];
		int got;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!strncmp(line, "cpu ", 4)) {
			got = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
				     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
			for (i = 0; (int)i < got; i++) {
				snprintf(name, sizeof(name), "kern.cpu.%s_ms", cpu_names[i]);
				snprintf(oid, sizeof(oid), "4.%zu", i + 3);
				tree_put(t, name, oid, INSTR_COUNTER, "ms", cpu_descs[i], 1,
					 (double)(v[i] * 1000 / (unsigned long long)hz));
			}
			continue;
		}
		for (i = 0; i < ARRAY_LEN(keys); i++) {
			size_t kl = strlen(keys[i].key);
			if (strncmp(line, keys[i].key, kl) || line[kl] != ' ')
				continue;
			if (sscanf(line + kl, "%llu", &x) == 1)
				tree_put(t, keys[i].name, keys[i].oid, keys[i].kind, "",
					 keys[i].desc, 1, (double)x);
		}
	}
	free(buf);
	return 0;
}

/* Threads (loadavg's "running/total"), open files, CPUs, vmstat. */
static int tree_misc(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	char buf[4096], *p;
	unsigned long long a, b, c;
	int rc = 0, n;

	if (!tree_read_str(root, "proc/loadavg", buf, sizeof(buf)) &&
	    (p = strchr(buf, '/')) && sscanf(p + 1, "%llu", &a) == 1)
		tree_put(t, "kern.threads.count", "3.2", INSTR_GAUGE, "", "threads", 1, (double)a);
	if (!tree_read_str(root, "proc/sys/fs/file-nr", buf, sizeof(buf)) &&
	    sscanf(buf, "%llu %llu %llu", &a, &b, &c) == 3 && b <= a) {
		tree_put(t, "kern.files.open", "6.1", INSTR_GAUGE, "", "open files", 1,
			 (double)(a - b));
		tree_put(t, "kern.files.max", "6.2", INSTR_ATTRIBUTE, "",
			 "open files the kernel allows (fs.file-max)", 1, (double)c);
	} else {
		snprintf(err, errlen, "%s/proc/sys/fs/file-nr: unreadable or malformed", root);
		rc = -EINVAL;
	}
	if (!tree_read_str(root, "sys/devices/system/cpu/present", buf, sizeof(buf)) &&
	    (n = tree_cpu_list(buf, NULL)) > 0)
		tree_put(t, "kern.cpu.count", "4.1", INSTR_ATTRIBUTE, "", "CPUs present", 1, n);
	if (!tree_read_str(root, "sys/devices/system/cpu/online", buf, sizeof(buf)) &&
	    (n = tree_cpu_list(buf, NULL)) > 0)
		tree_put(t, "kern.cpu.online", "4.2", INSTR_GAUGE, "", "CPUs online", 1, n);
	if (sample_read_file(root, "proc/vmstat", buf, sizeof(buf), err, errlen) >= 0) {
		static const struct {
			const char *key, *name, *oid, *desc;
		} keys[] = {
			{ "pgfault", "vm.pgfault", "7.6", "page faults since boot" },
			{ "pgmajfault", "vm.pgmajfault", "7.7", "major page faults (I/O) since boot" },
			{ "pswpin", "vm.pswpin", "7.8", "pages swapped in since boot" },
			{ "pswpout", "vm.pswpout", "7.9", "pages swapped out since boot" },
		};
		size_t i;
		for (i = 0; i < ARRAY_LEN(keys); i++) {
			char pat[32];
			snprintf(pat, sizeof(pat), "\n%s ", keys[i].key);
			p = strncmp(buf, pat + 1, strlen(pat + 1)) ? strstr(buf, pat) : buf - 1;
			if (p && sscanf(p + strlen(pat), "%llu", &a) == 1)
				tree_put(t, keys[i].name, keys[i].oid, INSTR_COUNTER, "pages",
					 keys[i].desc, 1, (double)a);
		}
	}
	return rc;
}

/* proc/net/dev: per-interface counters, OID 8.IFINDEX.N. */
static int tree_netdev(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	static const struct {
		int col;
		const char *name, *desc;
	} cols[] = {
		{ 0, "rx_bytes", "bytes received" },   { 1, "rx_packets", "packets received" },
		{ 2, "rx_errors", "receive errors" },  { 3, "rx_dropped", "received packets dropped" },
		{ 8, "tx_bytes", "bytes sent" },       { 9, "tx_packets", "packets sent" },
		{ 10, "tx_errors", "send errors" },    { 11, "tx_dropped", "packets dropped on send" },
	};
	char *buf, *line, *next;
	long n;
	int idx = 100;

	buf = malloc(SAMPLE_MAX_FILE); /* freed below */
	if (!buf)
		return -ENOMEM;
	n = sample_read_file(root, "proc/net/dev", buf, SAMPLE_MAX_FILE, err, errlen);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	for (line = buf; *line; line = next) {
		unsigned long long v[16];
		char ifname[32], name[INSTR_NAME_MAX + 1], oid[32], rel[96], desc[64];
		unsigned long long ifindex;
		char *colon;
		size_t i;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		colon = strchr(line, ':');
		if (!colon || strchr(line, '|'))
			continue;
		*colon = '\0';
		while (*line == ' ')
			line++;
		if (!*line || strlen(line) >= sizeof(ifname) || !strcmp(line, "lo"))
			continue;
		snprintf(ifname, sizeof(ifname), "%s", line);
		if (sscanf(colon + 1,
			   "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
			   "%llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16)
			continue;
		snprintf(rel, sizeof(rel), "sys/class/net/%s/ifindex", ifname);
		if (tree_read_ull(root, rel, &ifindex))
			ifindex = (unsigned long long)idx++;
		for (i = 0; i < ARRAY_LEN(cols); i++) {
			snprintf(name, sizeof(name), "net.%s.%s", ifname, cols[i].name);
			snprintf(oid, sizeof(oid), "8.%llu.%zu", ifindex, i + 1);
			snprintf(desc, sizeof(desc), "%s: %s", ifname, cols[i].desc);
			tree_put(t, name, oid, INSTR_COUNTER, i == 0 || i == 4 ? "bytes" : "",
				 desc, 1, (double)v[cols[i].col]);
		}
	}
	free(buf);
	return 0;
}

/* A mount point as a name segment: "/" is root, "/a/b" is a_b. */
static void tree_fs_name(const char *mnt, char *out, size_t cap)
{
	size_t o = 0;

	if (!strcmp(mnt, "/")) {
		snprintf(out, cap, "root");
		return;
	}
	for (mnt++; *mnt && o + 1 < cap && o < 24; mnt++) {
		char c = (char)tolower((unsigned char)*mnt);
		out[o++] = (isalnum((unsigned char)c)) ? c : '_';
	}
	out[o] = '\0';
}

/* Space and files of every real filesystem in proc/mounts. */
static int tree_fs(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	static const char *const types[] = { "rootfs", "tmpfs", "ramfs", "ext2", "ext3", "ext4",
					     "xfs",    "btrfs", "vfat",  "nfs",  "nfs4", NULL };
	char buf[8192], *line, *next;
	int idx = 0;

	if (sample_read_file(root, "proc/mounts", buf, sizeof(buf), err, errlen) < 0)
		return -EINVAL;
	for (line = buf; *line; line = next) {
		char dev[128], mnt[256], type[32], seg[32], path[4096], name[INSTR_NAME_MAX + 1];
		char oid[32], desc[INSTR_DESC_MAX + 1];
		const char *const *ty;
		struct statvfs sv;
		double bs;
		static const struct {
			const char *name, *unit, *desc;
			enum instr_kind kind;
		} vals[] = {
			{ "space_total_kb", "KiB", "size", INSTR_GAUGE },
			{ "space_free_kb", "KiB", "space free", INSTR_GAUGE },
			{ "space_avail_kb", "KiB", "space available to users", INSTR_GAUGE },
			{ "files_total", "", "inodes", INSTR_GAUGE },
			{ "files_free", "", "inodes free", INSTR_GAUGE },
		};
		double v[5];
		size_t i;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (sscanf(line, "%127s %255s %31s", dev, mnt, type) != 3)
			continue;
		for (ty = types; *ty && strcmp(*ty, type); ty++)
			;
		if (!*ty)
			continue;
		idx++;
		snprintf(path, sizeof(path), "%s%s", root, mnt);
		if (statvfs(path, &sv))
			continue;
		bs = (double)sv.f_frsize / 1024;
		v[0] = (double)sv.f_blocks * bs;
		v[1] = (double)sv.f_bfree * bs;
		v[2] = (double)sv.f_bavail * bs;
		v[3] = (double)sv.f_files;
		v[4] = (double)sv.f_ffree;
		tree_fs_name(mnt, seg, sizeof(seg));
		for (i = 0; i < ARRAY_LEN(vals); i++) {
			snprintf(name, sizeof(name), "fs.%s.%s", seg, vals[i].name);
			snprintf(oid, sizeof(oid), "9.%d.%zu", idx, i + 1);
			snprintf(desc, sizeof(desc), "%.60s: %s", mnt, vals[i].desc);
			tree_put(t, name, oid, vals[i].kind, vals[i].unit, desc, 1,
				 (double)(long long)v[i]);
		}
	}
	return 0;
}

/* Temperatures from sys/class/hwmon/hwmonN/tempK_input (millidegrees). */
static int tree_hwmon(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/class/hwmon", root);
	d = opendir(path);
	if (!d)
		return 0; /* no sensors: nothing to report */
	while ((de = readdir(d))) {
		unsigned hw;
		int k;

		if (sscanf(de->d_name, "hwmon%u", &hw) != 1)
			continue;
		for (k = 1; k <= 16; k++) {
			char rel[128], name[INSTR_NAME_MAX + 1], oid[32], sensor[32], desc[96];
			unsigned long long mc;
			snprintf(rel, sizeof(rel), "sys/class/hwmon/hwmon%u/temp%d_input", hw, k);
			if (tree_read_ull(root, rel, &mc))
				continue;
			snprintf(rel, sizeof(rel), "sys/class/hwmon/hwmon%u/name", hw);
			if (tree_read_str(root, rel, sensor, sizeof(sensor)))
				snprintf(sensor, sizeof(sensor), "?");
			snprintf(name, sizeof(name), "hw.hwmon%u.temp%d_c", hw, k);
			snprintf(oid, sizeof(oid), "10.%u.%d", hw, k);
			snprintf(desc, sizeof(desc), "temperature %d of sensor %.32s", k, sensor);
			tree_put(t, name, oid, INSTR_GAUGE, "C", desc, 0, (double)mc / 1000);
		}
	}
	closedir(d);
	return 0;
}

/* The agent's own use: RSS and CPU time from proc/self. */
static int tree_self(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	char buf[4096], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0)
		hz = 100;
	if (sample_read_file(root, "proc/self/status", buf, sizeof(buf), err, errlen) >= 0 &&
	    (p = strstr(buf, "\nVmRSS:")) && sscanf(p + 7, "%llu", &ut) == 1)
		tree_put(t, "agent.rss_kb", "11.1", INSTR_GAUGE, "KiB",
			 "resident memory of snow-agent", 1, (double)ut);
	/* Fields 14 and 15 (utime, stime) come after the ")" that ends the name. */
	if (sample_read_file(root, "proc/self/stat", buf, sizeof(buf), err, errlen) >= 0 &&
	    (p = strrchr(buf, ')')) &&
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
		tree_put(t, "agent.cpu_ms", "11.2", INSTR_COUNTER, "ms",
			 "CPU time used by snow-agent", 1,
			 (double)((ut + st) * 1000 / (unsigned long long)hz));
	return 0;
}

/*
 * The NIC offload engine's counters from snow-nic's status file, 12.N, while
 * it is fresh (a stopped engine reports nothing rather than stale numbers).
 */
static void tree_nic_put(struct instr_tree *t, size_t i, double v)
{
	char name[INSTR_NAME_MAX + 1], oid[16];

	snprintf(name, sizeof(name), "nic.%s", nicst_counters[i].name);
	snprintf(oid, sizeof(oid), "12.%u", (unsigned)(i + 1) & 0xffu);
	tree_put(t, name, oid, nicst_counters[i].kind, nicst_counters[i].unit,
		 nicst_counters[i].desc, 1, v);
}

void tree_nic_declare(struct instr_tree *t)
{
	struct instr_value *x;
	size_t i;

	for (i = 0; i < nicst_ncounters; i++)
		tree_nic_put(t, i, 0);
	tree_put(t, "nic.mtu", "12.40", INSTR_ATTRIBUTE, "bytes",
		 "MTU of the compute network interface", 1, 0);
	tree_put(t, "nic.attached", "12.41", INSTR_GAUGE, "",
		 "1 while an application is attached to the NIC", 1, 0);
	/* Declared, not read: no value and no watermarks until snow-nic reports. */
	for (i = 0; i < t->n; i++) {
		x = &t->v[i];
		if (!strncmp(x->def.name, "nic.", 4)) {
			x->valid = 0;
			memset(&x->wm, 0, sizeof(x->wm));
		}
	}
}

static int tree_nic(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	struct nicst s;
	json_t *c, *v;
	size_t i;

	(void)err;
	(void)errlen;
	nicst_read(root, time(NULL), &s);
	if (!s.fresh) {
		nicst_clear(&s);
		return 0;
	}
	c = json_object_get(s.json, "counters");
	for (i = 0; i < nicst_ncounters; i++) {
		v = json_object_get(c, nicst_counters[i].name);
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			tree_nic_put(t, i, (double)json_integer_value(v));
	}
	if (s.mtu > 0)
		tree_put(t, "nic.mtu", "12.40", INSTR_ATTRIBUTE, "bytes",
			 "MTU of the compute network interface", 1, (double)s.mtu);
	tree_put(t, "nic.attached", "12.41", INSTR_GAUGE, "",
		 "1 while an application is attached to the NIC", 1,
		 json_is_integer(json_object_get(s.json, "attached_pid")) ? 1 : 0);
	nicst_clear(&s);
	return 0;
}

struct tree_xcvr_ctx {
	struct instr_tree *t;
	const char *root;
};

/* An optical module's diagnostics as gauges: net.IF.xcvr.temp_c, ... */
static void tree_xcvr_one(void *ctx, const char *ifname, const struct sff8472_diag *d)
{
	struct tree_xcvr_ctx *c = ctx;
	char name[INSTR_NAME_MAX + 1], oid[32], rel[96], desc[96];
	unsigned long long ifindex = 0;
	int k;

	snprintf(rel, sizeof(rel), "sys/class/net/%s/ifindex", ifname);
	tree_read_ull(c->root, rel, &ifindex);
	for (k = 0; k < SFF_ITEMS; k++) {
		snprintf(name, sizeof(name), "net.%s.xcvr.%s", ifname, d->r[k].name);
		snprintf(oid, sizeof(oid), "8.%llu.%d", ifindex, 20 + k);
		snprintf(desc, sizeof(desc), "%s transceiver (SFF-8472): %s", ifname, d->r[k].name);
		tree_put(c->t, name, oid, INSTR_GAUGE, d->r[k].unit, desc, 0, d->r[k].value);
	}
}

static int tree_xcvr(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	struct tree_xcvr_ctx c = { t, root };

	xcvr_each(root, tree_xcvr_one, &c);
	return 0;
}

int tree_sample(const char *root, struct instr_tree *t, char *err, size_t errlen)
{
	static int (*const readers[])(const char *, struct instr_tree *, char *, size_t) = {
		tree_from_sample, tree_meminfo, tree_stat, tree_misc,
		tree_netdev,      tree_fs,      tree_hwmon, tree_self,
		tree_nic,         tree_xcvr,
	};
	char msg[256];
	int rc, first = 0;
	size_t i;

	instr_tree_begin(t);
	for (i = 0; i < ARRAY_LEN(readers); i++) {
		msg[0] = '\0';
		rc = readers[i](root, t, msg, sizeof(msg));
		if (rc && !first) {
			first = rc;
			snprintf(err, errlen, "%s", msg[0] ? msg : "a reader failed");
		}
	}
	return first;
}
