#include "boot.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpio.h"
#include "firmware_templates.h"
#include "log.h"
#include "tmpl.h"
#include "valid.h"

void boot_mac_url(const char *mac, char out[SNOW_MAC_STRLEN + 1])
{
	size_t i;

	snprintf(out, SNOW_MAC_STRLEN + 1, "%s", mac);
	for (i = 0; out[i]; i++)
		if (out[i] == ':')
			out[i] = '-';
}

int boot_render_first(const struct boot_params *p, struct buf *out, char *err, size_t errlen)
{
	const struct tmpl_var v[] = { { "base", p->base_url } };

	return tmpl_render(fw_first_ipxe, v, 1, out, err, errlen);
}

int boot_render_node(const struct boot_params *p, const struct inv_node *n, json_t *eff,
		     struct buf *out, char *err, size_t errlen)
{
	const char *image = json_string_value(json_object_get(eff, "image"));
	const char *extra = json_string_value(json_object_get(eff, "cmdline"));
	char mac_url[SNOW_MAC_STRLEN + 1], cmdline[2200], ncon[128] = "";

	boot_mac_url(n->mac, mac_url);
	/* The kernel's messages to snowd from the moment the NIC is up (extended form, "+"). */
	if (p->klog_port && p->klog_host && n->ip[0])
		snprintf(ncon, sizeof(ncon), " netconsole=+@%s/,%d@%s/%s", n->ip, p->klog_port,
			 p->klog_host, p->klog_mac ? p->klog_mac : "");
	/* snow.mac tells /init which interface is the service NIC; snow.image which
	 * image (and version) a whole-system initrd fetches its root from. */
	snprintf(cmdline, sizeof(cmdline), "%s%s%s snow.mac=%s snow.image=%s%s", p->cmdline,
		 extra && *extra ? " " : "", extra ? extra : "", n->mac, image ? image : n->image, ncon);
	const struct tmpl_var v[] = {
		{ "base", p->base_url },
		{ "name", n->name },
		{ "mac", n->mac },
		{ "mac_url", mac_url },
		{ "image", image ? image : n->image },
		{ "cmdline", cmdline },
	};
	return tmpl_render(fw_node_ipxe, v, sizeof(v) / sizeof(v[0]), out, err, errlen);
}

int boot_render_unknown(const struct boot_params *p, const char *mac, struct buf *out, char *err,
			size_t errlen)
{
	char mac_url[SNOW_MAC_STRLEN + 1], retry[16];

	boot_mac_url(mac, mac_url);
	snprintf(retry, sizeof(retry), "%d", p->unknown_retry_s);
	const struct tmpl_var v[] = {
		{ "base", p->base_url }, { "mac", mac }, { "mac_url", mac_url }, { "retry", retry },
	};
	return tmpl_render(fw_unknown_ipxe, v, sizeof(v) / sizeof(v[0]), out, err, errlen);
}

int boot_render_node_conf(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			  struct buf *out)
{
	json_t *iv = json_object_get(eff, "interval_ms"), *v;
	const char *k;
	size_t i;
	int rc;

	rc = buf_printf(out,
			"# Snow node configuration for %s, written by snowd.\n"
			"name = %s\n"
			"mac = %s\n"
			"host_url = %s\n"
			"secret = %s\n"
			"interval_ms = %lld\n",
			n->name, n->name, n->mac, p->host_urls ? p->host_urls : p->base_url, n->secret,
			iv ? (long long)json_integer_value(iv) : (long long)p->interval_ms);
	/* Values were checked by settings_check(): no newlines can reach here. */
	json_object_foreach(json_object_get(eff, "env"), k, v)
		if (!rc)
			rc = buf_printf(out, "env.%s = %s\n", k, json_string_value(v));
	json_array_foreach(json_object_get(eff, "thresholds"), i, v) {
		json_t *samples = json_object_get(v, "samples");
		if (rc)
			break;
		rc = buf_printf(out, "threshold.%s = %s %.17g %.17g %lld\n",
				json_string_value(json_object_get(v, "value")),
				json_string_value(json_object_get(v, "kind")),
				json_number_value(json_object_get(v, "rise")),
				json_number_value(json_object_get(v, "clear")),
				samples ? (long long)json_integer_value(samples) : 1LL);
	}
	return rc;
}

/* The environment for shells on the node, in single quotes (settings_check() keeps them out of values). */
static int boot_render_env(json_t *eff, struct buf *out)
{
	const char *k;
	json_t *v;
	int rc = buf_puts(out, "# Environment from snowd (the node's env setting).\n");

	json_object_foreach(json_object_get(eff, "env"), k, v) {
		const char *s = json_string_value(v);
		if (rc)
			break;
		rc = buf_printf(out, "export %s='%s'\n", k, s);
	}
	return rc;
}

/* Read a small file whole into b.  @ret 0, -ENOENT, -EFBIG (over 64 KiB) or -errno. */
static int boot_read_file(const char *path, struct buf *b)
{
	char chunk[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b->len + (size_t)r > 64 * 1024) {
			rc = -EFBIG;
			break;
		}
		if (buf_append(b, chunk, (size_t)r)) {
			rc = -ENOMEM;
			break;
		}
	}
	if (r < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * The node's SSH host key, made with ssh-keygen the first time and kept in
 * ssh_dir/NAME/.  priv and pub are filled (the caller frees them, and wipes
 * priv).  @ret 0 or -errno.
 */
static int boot_ssh_hostkey(const char *ssh_dir, const char *name, struct buf *priv,
			    struct buf *pub)
{
	char dir[4400], key[4500], keypub[4600], tmp[4500], tmppub[4600], comment[128];
	int status;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/%s", ssh_dir, name);
	snprintf(key, sizeof(key), "%s/ssh_host_ed25519_key", dir);
	snprintf(keypub, sizeof(keypub), "%s.pub", key);
	/* Made under a temporary name: a crash never leaves half a key. */
	snprintf(tmp, sizeof(tmp), "%s/.new", dir);
	snprintf(tmppub, sizeof(tmppub), "%s.pub", tmp);
	snprintf(comment, sizeof(comment), "root@%s", name);
	if (access(key, F_OK)) {
		if ((mkdir(ssh_dir, 0700) && errno != EEXIST) || (mkdir(dir, 0700) && errno != EEXIST))
			return -errno;
		unlink(tmp);
		unlink(tmppub);
		pid = fork();
		if (pid < 0)
			return -errno;
		if (!pid) {
			int null = open("/dev/null", O_RDWR);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
			}
			execlp("ssh-keygen", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
			       "-f", tmp, (char *)NULL);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return -errno;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			log_warnx("boot: ssh-keygen for %s failed (status %d; is openssh-client installed?)",
				  name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return -EIO;
		}
		if (rename(tmppub, keypub) || rename(tmp, key))
			return -errno;
		log_info("boot: node %s: SSH host key made (%s)", name, key);
	}
	{
		int rc = boot_read_file(key, priv);
		return rc ? rc : boot_read_file(keypub, pub);
	}
}

/*
 * Add folder path and every folder above it that seen (a list of
 * "\npath\n" entries) does not hold yet: a cpio names each folder once.
 * @ret 0 or -ENOMEM.
 */
static int boot_dirs(struct buf *out, struct buf *seen, const char *path, mode_t mode)
{
	char p[4200], key[4210];
	char *slash;
	int rc = 0;

	snprintf(p, sizeof(p), "%s", path);
	for (slash = p;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = '\0';
		snprintf(key, sizeof(key), "\n%s\n", p);
		if (!seen->data || !strstr(seen->data, key)) {
			rc = cpio_add_dir(out, p, slash ? 0755 : mode);
			if (!rc)
				rc = buf_puts(seen, key + (seen->len ? 1 : 0));
		}
		if (rc || !slash)
			return rc;
		*slash = '/';
	}
}

/* /etc/snow/overlay/: host key and the admin's keys (boot_render_overlay). */
static int boot_render_ssh(const struct boot_params *p, const struct inv_node *n, struct buf *out,
			   struct buf *seen)
{
	struct buf priv = BUF_INIT, pub = BUF_INIT, keys = BUF_INIT;
	int rc = 0, have_keys = 0;

	if (p->authorized_keys) {
		rc = boot_read_file(p->authorized_keys, &keys);
		if (rc == -ENOENT)
			rc = 0;
		else if (rc)
			log_warnx("boot: %s: %s (no authorized_keys in the overlay of %s)",
				  p->authorized_keys, strerror(-rc), n->name);
		have_keys = !rc && keys.len > 0;
		rc = 0;
	}
	if (p->ssh_dir) {
		rc = boot_ssh_hostkey(p->ssh_dir, n->name, &priv, &pub);
		if (rc)
			log_warnx("boot: node %s: no SSH host key: %s", n->name, strerror(-rc));
	}
	if (!rc && p->ssh_dir) {
		rc = boot_dirs(out, seen, "etc/snow/overlay/etc/ssh", 0755);
		if (!rc)
			rc = cpio_add_file(out, "etc/snow/overlay/etc/ssh/ssh_host_ed25519_key", 0600,
					   priv.data, priv.len);
		if (!rc)
			rc = cpio_add_file(out, "etc/snow/overlay/etc/ssh/ssh_host_ed25519_key.pub",
					   0644, pub.data, pub.len);
	}
	if (!rc && have_keys) {
		rc = boot_dirs(out, seen, "etc/snow/overlay/root", 0700);
		if (!rc)
			rc = boot_dirs(out, seen, "etc/snow/overlay/root/.ssh", 0700);
		if (!rc)
			rc = cpio_add_file(out, "etc/snow/overlay/root/.ssh/authorized_keys", 0600,
					   keys.data, keys.len);
	}
	if (priv.data)
		explicit_bzero(priv.data, priv.len);
	buf_free(&priv);
	buf_free(&pub);
	buf_free(&keys);
	return rc;
}

/* The compute NIC for systemd-networkd, from env SNOW_NIC_*; none without SNOW_NIC_MAC. */
static int boot_render_compute(const struct inv_node *n, json_t *eff, struct buf *out)
{
	json_t *env = json_object_get(eff, "env");
	const char *mac = json_string_value(json_object_get(env, "SNOW_NIC_MAC"));
	const char *mtu = json_string_value(json_object_get(env, "SNOW_NIC_MTU"));
	const char *addr = json_string_value(json_object_get(env, "SNOW_NIC_ADDR"));
	char cmac[SNOW_MAC_STRLEN + 1], ip[64], *end;
	const char *slash;
	struct in_addr a;
	long v = 0, prefix = 0;
	int rc;

	if (!mac)
		return 0;
	if (valid_mac(mac, cmac, NULL, 0)) {
		log_warnx("boot: node %s: env SNOW_NIC_MAC '%s' is not a MAC: no compute NIC config",
			  n->name, mac);
		return 0;
	}
	rc = buf_printf(out,
			"# The compute NIC (env SNOW_NIC_MAC), written by snowd: snow-nic.service runs\n"
			"# the offload engine on it; no DHCP, no IPv6 autoconfiguration.\n"
			"[Match]\nMACAddress=%s\n\n[Link]\nRequiredForOnline=no\n",
			cmac);
	if (!rc && mtu) {
		errno = 0;
		v = strtol(mtu, &end, 10);
		if (errno || *end || v < 68 || v > 65535)
			log_warnx("boot: node %s: env SNOW_NIC_MTU '%s' is not 68..65535: left out",
				  n->name, mtu);
		else
			rc = buf_printf(out, "MTUBytes=%ld\n", v);
	}
	if (!rc)
		rc = buf_puts(out, "\n[Network]\nDHCP=no\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n");
	if (!rc && addr) {
		slash = strchr(addr, '/');
		if (slash && (size_t)(slash - addr) < sizeof(ip)) {
			memcpy(ip, addr, (size_t)(slash - addr));
			ip[slash - addr] = '\0';
			errno = 0;
			prefix = strtol(slash + 1, &end, 10);
		}
		if (!slash || (size_t)(slash - addr) >= sizeof(ip) || errno || *end || prefix < 1 ||
		    prefix > 32 || inet_pton(AF_INET, ip, &a) != 1)
			log_warnx("boot: node %s: env SNOW_NIC_ADDR '%s' is not IPv4/PREFIX: left out",
				  n->name, addr);
		else
			rc = buf_printf(out, "Address=%s/%ld\n", ip, prefix);
	}
	return rc;
}

/* The parts only a whole-system image reads: hosts, environment, compute NIC, templates. */
static int boot_render_system(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			      struct buf *out, struct buf *seen)
{
	static const char env_sh[] = "# Login shells get the node's environment (snowd's env setting).\n"
				     "[ -r /etc/snow/env ] && . /etc/snow/env\n";
	const char *image = json_string_value(json_object_get(eff, "image"));
	struct buf net = BUF_INIT, text = BUF_INIT;
	char path[4200], err[300];
	size_t i;
	int rc;

	rc = boot_dirs(out, seen, "etc/snow/overlay/etc/profile.d", 0755);
	if (!rc)
		rc = cpio_add_file(out, "etc/snow/overlay/etc/profile.d/snow-env.sh", 0644, env_sh,
				   strlen(env_sh));
	if (!rc && p->hosts)
		rc = cpio_add_file(out, "etc/snow/overlay/etc/hosts", 0644, p->hosts, strlen(p->hosts));
	if (!rc)
		rc = boot_render_compute(n, eff, &net);
	if (!rc && net.len) {
		rc = boot_dirs(out, seen, "etc/snow/overlay/etc/systemd/network", 0755);
		if (!rc)
			rc = cpio_add_file(out, "etc/snow/overlay/etc/systemd/network/20-snow-compute.network",
					   0644, net.data, net.len);
	}
	/* The admin's templates, checked when they were read (overlay_load). */
	for (i = 0; !rc && p->tmpls && i < p->tmpls->n; i++) {
		const struct overlay_file *f = &p->tmpls->files[i];
		const struct tmpl_var v[OVERLAY_NVARS] = {
			{ "name", n->name }, { "mac", n->mac }, { "ip", n->ip },
			{ "image", image ? image : n->image }, { "profile", n->profile },
			{ "host_url", p->base_url },
		};
		char *slash;
		buf_reset(&text);
		rc = tmpl_render(f->text, v, OVERLAY_NVARS, &text, err, sizeof(err));
		if (rc) {
			log_warnx("boot: node %s: template %s: %s", n->name, f->path, err);
			break;
		}
		snprintf(path, sizeof(path), "etc/snow/overlay/%s", f->path);
		slash = strrchr(path, '/');
		*slash = '\0';
		rc = boot_dirs(out, seen, path, 0755);
		*slash = '/';
		if (!rc)
			rc = cpio_add_file(out, path, f->mode, text.data ? text.data : "", text.len);
	}
	buf_free(&net);
	buf_free(&text);
	return rc;
}

int boot_render_overlay(const struct boot_params *p, const struct inv_node *n, json_t *eff,
			struct buf *out)
{
	struct buf conf = BUF_INIT, env = BUF_INIT, seen = BUF_INIT;
	char hostname[SNOW_NAME_MAX + 2];
	int rc;

	snprintf(hostname, sizeof(hostname), "%s\n", n->name);
	rc = boot_render_node_conf(p, n, eff, &conf);
	if (!rc)
		rc = boot_render_env(eff, &env);
	if (!rc)
		rc = cpio_add_dir(out, "etc", 0755);
	if (!rc)
		rc = cpio_add_file(out, "etc/hostname", 0644, hostname, strlen(hostname));
	if (!rc)
		rc = cpio_add_dir(out, "etc/snow", 0700);
	if (!rc)
		rc = cpio_add_file(out, "etc/snow/node.conf", 0600, conf.data, conf.len);
	if (!rc)
		rc = cpio_add_file(out, "etc/snow/env", 0644, env.data, env.len);
	if (!rc && (p->ssh_dir || p->authorized_keys)) {
		/* The folders above are in already. */
		rc = buf_puts(&seen, "\netc\n\netc/snow\n");
		if (!rc)
			rc = boot_render_ssh(p, n, out, &seen);
	}
	if (!rc && p->whole_system) {
		if (!seen.len)
			rc = buf_puts(&seen, "\netc\n\netc/snow\n");
		if (!rc)
			rc = boot_render_system(p, n, eff, out, &seen);
	}
	if (!rc)
		rc = cpio_finish(out);
	buf_free(&seen);
	buf_free(&env);
	/* The secret was in conf: do not leave it in freed memory. */
	if (conf.data)
		explicit_bzero(conf.data, conf.len);
	buf_free(&conf);
	return rc;
}
