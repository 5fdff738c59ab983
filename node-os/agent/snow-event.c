/*
 * snow-event: post an event into the node's black box, from a shell script
 * or any program on the node (node-os/agent/post.h has the socket's rules).
 *
 *   snow-event [-s SOCKET] [-p PUBLISHER] [-l SEVERITY] TYPE [KEY=VALUE]...
 *   snow-event -p backup -l notice backup.done files=1200 dest=nas1
 *
 * The agent records it as "app.TYPE" with the sender's pid and uid and
 * answers; snow-event prints the event's seq and exits 0 once it is kept,
 * or prints the agent's refusal and exits 1.  A VALUE that reads as a
 * number whole is sent as a number, true/false as booleans, anything else
 * as a string.  No libraries but libc: it goes into the smallest image.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SNOW_EVENT_SOCKET "/run/snow/event.sock"
#define SNOW_EVENT_MAX 4096
#define SNOW_EVENT_WAIT_MS 2000

struct out {
	char buf[SNOW_EVENT_MAX + 1];
	size_t len;
	int over;
};

static void out_raw(struct out *o, const char *s, size_t n)
{
	if (o->len + n > SNOW_EVENT_MAX) {
		o->over = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* s as a JSON string: quotes, backslashes and control characters escaped. */
static void out_str(struct out *o, const char *s, size_t n)
{
	char esc[8];
	size_t i;

	out_raw(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out_raw(o, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out_raw(o, esc, 6);
		} else {
			out_raw(o, (const char *)&c, 1);
		}
	}
	out_raw(o, "\"", 1);
}

/* Is s exactly a JSON number (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?)? */
static int json_number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

/* A value: a number when the whole text is one, true/false, else a string. */
static void out_value(struct out *o, const char *v)
{
	if (!strcmp(v, "true") || !strcmp(v, "false") || (json_number_ok(v) && strlen(v) < 24))
		out_raw(o, v, strlen(v));
	else
		out_str(o, v, strlen(v));
}

static void usage(FILE *f)
{
	fprintf(f, "usage: snow-event [-s SOCKET] [-p PUBLISHER] [-l SEVERITY] TYPE [KEY=VALUE]...\n"
		   "Posts an event (type app.TYPE) into this node's black box through snow-agent.\n"
		   "  -s SOCKET     the agent's event socket (default $SNOW_EVENT_SOCKET or %s)\n"
		   "  -p PUBLISHER  who posts it, [a-z0-9_.-] (default $SNOW_EVENT_PUBLISHER or "
		   "snow-event)\n"
		   "  -l SEVERITY   debug, info (default), notice, warning, error or critical\n",
		SNOW_EVENT_SOCKET);
}

int main(int argc, char **argv)
{
	const char *sock = getenv("SNOW_EVENT_SOCKET"), *pub = getenv("SNOW_EVENT_PUBLISHER");
	const char *sev = "info";
	struct sockaddr_un to = { .sun_family = AF_UNIX }, me = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	struct out o = { .len = 0 };
	char reply[512];
	ssize_t n;
	int opt, fd, i;

	while ((opt = getopt(argc, argv, "s:p:l:h")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'p': pub = optarg; break;
		case 'l': sev = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!sock || !*sock)
		sock = SNOW_EVENT_SOCKET;
	if (!pub || !*pub)
		pub = "snow-event";
	if (strlen(sock) >= sizeof(to.sun_path)) {
		fprintf(stderr, "snow-event: socket path too long: %s\n", sock);
		return 2;
	}
	snprintf(to.sun_path, sizeof(to.sun_path), "%s", sock);

	out_raw(&o, "{\"type\":", 8);
	out_str(&o, argv[optind], strlen(argv[optind]));
	out_raw(&o, ",\"severity\":", 12);
	out_str(&o, sev, strlen(sev));
	out_raw(&o, ",\"publisher\":", 13);
	out_str(&o, pub, strlen(pub));
	out_raw(&o, ",\"attrs\":{", 10);
	for (i = optind + 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			fprintf(stderr, "snow-event: '%s' is not KEY=VALUE\n", argv[i]);
			return 2;
		}
		if (i > optind + 1)
			out_raw(&o, ",", 1);
		out_str(&o, argv[i], (size_t)(eq - argv[i]));
		out_raw(&o, ":", 1);
		out_value(&o, eq + 1);
	}
	out_raw(&o, "}}", 2);
	if (o.over) {
		fprintf(stderr, "snow-event: the event is longer than %d bytes\n", SNOW_EVENT_MAX);
		return 2;
	}

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* An address of our own (autobind, abstract) so the agent can answer. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t))) {
		perror("snow-event: socket");
		return 1;
	}
	if (sendto(fd, o.buf, o.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fprintf(stderr, "snow-event: %s: %s (is snow-agent running?)\n", sock,
			strerror(errno));
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, SNOW_EVENT_WAIT_MS) != 1 ||
	    (n = recv(fd, reply, sizeof(reply) - 1, 0)) <= 0) {
		fprintf(stderr, "snow-event: no answer from the agent within %d ms\n",
			SNOW_EVENT_WAIT_MS);
		return 1;
	}
	reply[n] = '\0';
	if (strncmp(reply, "ok ", 3)) {
		fprintf(stderr, "snow-event: %s\n", reply);
		return 1;
	}
	printf("%s\n", reply + 3);
	return 0;
}
