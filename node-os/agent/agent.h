/*
 * snow-agent: registers the node with snowd and sends signed reports
 * (lib/wire.h).  One thread, one loop: the only waits are poll() on the
 * signal self-pipe (with the time to the next report as timeout) and the
 * bounded HTTP request itself.
 */
#ifndef SNOW_NODE_AGENT_H
#define SNOW_NODE_AGENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "sample.h"
#include "valid.h"
#include "wire.h"

#define AGENT_VERSION "0.1.0"
#define AGENT_INTERVAL_MIN_MS 100
#define AGENT_INTERVAL_MAX_MS 3600000
#define AGENT_BACKOFF_FIRST_MS 1000  /* registration retry: 1 s doubling ... */
#define AGENT_BACKOFF_MAX_MS 10000   /* ... up to 10 s */
#define AGENT_HTTP_TIMEOUT_MS 5000

/* Settings: command line over file (node.conf), one table for both. */
struct agent_conf {
	char *config;    /* node.conf path */
	char *root;      /* read ROOT/proc and ROOT/sys; "" means / */
	char *name;
	char *host_url;
	char *secret;    /* never logged */
	char *mac;
	long interval_ms;
	int once;
	int verbose;
	int check;       /* -n: validate the configuration and exit */
};

/* The option table (command line and node.conf keys). */
extern const struct conf_option agent_options[];

/*
 * Fill c from argv and the file named by --config; command line values win.
 * Keys of the file that are not in the table are ignored (debug log) so the
 * host can add keys later.  c must be zeroed; agent_conf_free() releases it
 * also on error.  @ret 0, -ECANCELED for --help, or -EINVAL / -errno with
 * err naming the option, key or file.
 */
int agent_conf_load(struct agent_conf *c, int argc, char **argv, char *err, size_t errlen);

/*
 * Check that what the agent needs is there and well formed (name, host_url,
 * secret, mac); canonicalises mac.  @ret 0 or -EINVAL with err naming the
 * field.
 */
int agent_conf_check(struct agent_conf *c, char *err, size_t errlen);

void agent_conf_free(struct agent_conf *c);

/* The agent's one state, passed explicitly. */
struct agent_state {
	struct agent_conf *conf;       /* borrowed */
	struct wire_client wire;
	char boot_id[SAMPLE_BOOT_ID_LEN + 1];
	char kernel[65];
	char hostname[65];
	long interval_ms;              /* configured, or as the host said */
	uint64_t seq;                  /* last report sent since registering */
	int registered;
	long backoff_ms;               /* next registration retry delay */
	int fail_kind;                 /* what the current failure is (0: none) */
	unsigned fail_count;           /* attempts failed in the current failure */
	int sample_rc;                 /* last sampling error, logged on change */
	int stop_fd;                   /* read end of the signal pipe, -1 for none */
	int stop;
};

/*
 * Set up st from a checked conf: wire client, boot id (under conf->root),
 * kernel release, hostname.  @ret 0 or -errno with err filled.
 */
int agent_init(struct agent_state *st, struct agent_conf *conf, int stop_fd, char *err,
	       size_t errlen);

/*
 * The register and report bodies.  @ret a new reference the caller
 * json_decref()s, or NULL (out of memory).  The report body takes the next
 * seq: call it once per report sent.
 */
json_t *agent_register_body(struct agent_state *st);
json_t *agent_report_body(struct agent_state *st);

/*
 * One registration attempt.  On 2xx, applies the host's interval_ms and
 * resets seq.  @ret 0, or the wire_post() error (-EACCES refused, -EPROTO
 * other status, transport errors), logged once per failure.
 */
int agent_register(struct agent_state *st);

/*
 * Send one report.  A 401/403/404 answer clears st->registered.
 * @ret 0 or the wire_post() error.
 */
int agent_report(struct agent_state *st);

/*
 * The loop: register (with back-off), then report every interval, until a
 * stop is signalled (a byte on stop_fd) or, with conf->once, after one
 * report.  @ret 0, or with once the first error.
 */
int agent_run(struct agent_state *st);

#endif
