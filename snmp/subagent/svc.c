#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "svc.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define OPT(n, s, t, f, lo, hi, a, h) { n, s, t, offsetof(struct svc_config, f), lo, hi, a, h }
const struct conf_option svc_options[] = {
	OPT("config", 'c', CONF_STR, config, 0, 0, "FILE", "read options from FILE (key = value)"),
	OPT("url", 'u', CONF_STR, url, 0, 0, "URL", "snowd's API (default http://127.0.0.1:8080)"),
	OPT("token-file", 't', CONF_STR, token_file, 0, 0, "FILE",
	    "file holding an operator or admin API token (default /var/lib/snow/admin.token)"),
	OPT("agentx-socket", 'x', CONF_STR, agentx_socket, 0, 0, "ADDR",
	    "snmpd's AgentX socket, unix:PATH or tcp:HOST:PORT (default unix:/var/agentx/master)"),
	OPT("interval-ms", 'i', CONF_INT, interval_ms, 100, 60000, "MS",
	    "how often the tables are renewed from snowd at most (default 500)"),
	OPT("poll", 0, CONF_BOOL, poll, 0, 0, NULL,
	    "read the whole node list every interval instead of following snowd's stream"),
	OPT("timeout-ms", 0, CONF_INT, timeout_ms, 100, 60000, "MS",
	    "deadline of one request to snowd (default 5000)"),
	OPT("agentx-ping", 0, CONF_INT, agentx_ping, 1, 3600, "S",
	    "ping snmpd this often and reconnect when it is gone (default 2)"),
	OPT("check-config", 'n', CONF_BOOL, check_config, 0, 0, NULL,
	    "check the configuration and the token file, then exit"),
	OPT("verbose", 'v', CONF_BOOL, verbose, 0, 0, NULL, "log debug messages"),
	{ 0 },
};
const char *const svc_cmdline_only[] = { "config", "check-config", NULL };

int svc_defaults(struct svc *s)
{
	struct svc_config *c = &s->cfg;

	s->notify_fd[0] = s->notify_fd[1] = -1;
	c->url = strdup("http://127.0.0.1:8080");
	c->token_file = strdup("/var/lib/snow/admin.token");
	c->agentx_socket = strdup("unix:/var/agentx/master");
	c->interval_ms = 500;
	c->timeout_ms = 5000;
	c->agentx_ping = 2;
	return c->url && c->token_file && c->agentx_socket ? 0 : -ENOMEM;
}

/* Read the token: one line, no spaces.  @ret 0 or -errno with err filled. */
static int svc_read_token(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f) {
		snprintf(err, errlen, "token-file: %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!fgets(out, (int)cap, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	len = strlen(out);
	if (!len || len >= cap - 1 || strpbrk(out, " \t")) {
		snprintf(err, errlen, "token-file: %s: must hold one token on its first line", path);
		return -EINVAL;
	}
	return 0;
}

int svc_check(struct svc *s, char *err, size_t errlen)
{
	struct svc_config *c = &s->cfg;
	struct fetch_conf fc = { c->url, s->token, (int)c->interval_ms, (int)c->timeout_ms, c->poll };

	if (svc_read_token(c->token_file, s->token, sizeof(s->token), err, errlen))
		return -EINVAL;
	return fetch_init(&s->fetch, &fc, err, errlen);
}

/* net-snmp's own messages, through our log with our prefix. */
static int svc_snmp_log(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;
	char msg[512];

	if (!m || !m->msg)
		return 0;
	snprintf(msg, sizeof(msg), "%s", m->msg);
	msg[strcspn(msg, "\n")] = '\0';
	if (!msg[0])
		return 0;
	if (m->priority <= LOG_WARNING)
		log_warnx("net-snmp: %s", msg);
	else if (m->priority <= LOG_INFO)
		log_info("net-snmp: %s", msg);
	else
		log_debug("net-snmp: %s", msg);
	return 0;
}

void svc_route_snmp_log(void)
{
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, svc_snmp_log, NULL);
}

static void svc_on_fetch(int fd, void *arg)
{
	struct svc *s = arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	agent_take(&s->agent, fetch_take(&s->fetch));
}

static void svc_on_tick(unsigned int reg, void *arg)
{
	struct svc *s = arg;
	int rc;

	if (!s->started) {
		rc = fetch_start(&s->fetch, s->notify_fd[1]);
		if (rc) {
			log_warnx("cannot start the fetcher: %s (next try in a second)", strerror(-rc));
			return;
		}
		s->started = 1;
	}
	agent_tick(&s->agent);
}

int svc_start(struct svc *s, int defer)
{
	int rc;

	if ((rc = agent_init(&s->agent, &s->fetch)))
		return rc;
	if (pipe2(s->notify_fd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	register_readfd(s->notify_fd[0], svc_on_fetch, s);
	s->tick = snmp_alarm_register(1, SA_REPEAT, svc_on_tick, s);
	if (!s->tick)
		return -ENOMEM;
	if (!defer) {
		if ((rc = fetch_start(&s->fetch, s->notify_fd[1])))
			return rc;
		s->started = 1;
	}
	return 0;
}

void svc_stop(struct svc *s)
{
	if (s->started)
		fetch_stop(&s->fetch);
	s->started = 0;
	if (s->tick)
		snmp_alarm_unregister(s->tick);
	s->tick = 0;
	if (s->notify_fd[0] >= 0) {
		unregister_readfd(s->notify_fd[0]);
		close(s->notify_fd[0]);
		close(s->notify_fd[1]);
	}
	s->notify_fd[0] = s->notify_fd[1] = -1;
	agent_free(&s->agent);
	explicit_bzero(s->token, sizeof(s->token));
}

void svc_unregister(struct svc *s)
{
	agent_unregister(&s->agent);
}
