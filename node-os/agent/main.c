/*
 * snow-agent: the node's agent.  /init starts it as
 *     snow-agent --config /etc/snow/node.conf
 * and restarts it if it dies; see docs/node-os.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "log.h"
#include "selfpipe.h"

static void main_usage(FILE *f)
{
	fprintf(f, "usage: snow-agent [--config FILE] [options]\n"
		   "Registers this node with snowd and sends signed reports.\n"
		   "Every option can also be a 'key = value' line of FILE; the command line wins.\n\n");
	conf_usage(f, agent_options);
}

int main(int argc, char **argv)
{
	struct agent_conf conf = { 0 };
	struct agent_state st;
	static const int sigs[] = { SIGTERM, SIGINT };
	struct selfpipe sp;
	char err[512];
	int rc;

	log_init("snow-agent", LOG_LVL_INFO);
	if ((rc = conf_early(agent_options, NULL, "snow-agent", argc, argv)))
		return rc < 0 ? 2 : 0;
	rc = agent_conf_load(&conf, argc, argv, err, sizeof(err));
	if (rc == -ECANCELED) {
		main_usage(stdout);
		agent_conf_free(&conf);
		return 0;
	}
	if (!rc)
		rc = agent_conf_check(&conf, err, sizeof(err));
	if (rc) {
		log_warnx("%s", err);
		agent_conf_free(&conf);
		return 2;
	}
	if (conf.verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (conf.check) {
		log_info("configuration is good: node %s, host %s, mac %s", conf.name,
			 conf.host_url, conf.mac);
		agent_conf_free(&conf);
		return 0;
	}

	/* No SA_RESTART: a signal cuts a pending HTTP wait short (EINTR). */
	if (selfpipe_open(&sp, sigs, 2, 0))
		fatal("signals");

	/*
	 * jansson seeds its hash from /dev/urandom on first use, which early in
	 * a boot waits for the kernel's entropy (a second under TCG).  Hash
	 * flooding is no threat to objects we build ourselves or get from our
	 * host, so a seed from the clock and pid will do.
	 */
	{
		json_object_seed(((size_t)clock_mono_us() ^ ((size_t)getpid() << 16)) | 1);
	}
	rc = agent_init(&st, &conf, sp.rfd, err, sizeof(err));
	if (rc) {
		log_warnx("%s", err);
		agent_fini(&st);
		goto out;
	}
	if (conf.dump) {
		json_t *d = agent_dump_json(&st);
		rc = d ? json_dumpf(d, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) : -ENOMEM;
		if (!rc)
			putchar('\n');
		json_decref(d);
		agent_fini(&st);
		goto out;
	}
	if (agent_standalone(&conf))
		log_info("snow-agent %s starting standalone (no host): root '%s', every %ld ms, "
			 "boot %s", AGENT_VERSION, conf.root, st.interval_ms, st.boot_id);
	else
		log_info("snow-agent %s starting: node %s, host %s, boot %s", AGENT_VERSION,
			 conf.name, conf.host_url, st.boot_id);
	rc = agent_run(&st);
	agent_fini(&st);
out:
	agent_conf_free(&conf);
	selfpipe_close(&sp);
	return rc ? 1 : 0;
}
