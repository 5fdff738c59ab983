#include "post.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "jsonh.h"
#include "log.h"

int post_parse(const char *buf, size_t len, struct post_event *e, char *err, size_t errlen)
{
	static const char *const keys[] = { "type", "severity", "publisher", "attrs", NULL };
	const char *type, *sev, *publisher;
	json_t *j, *attrs;
	char inner[128];
	int rc = -EINVAL;

	memset(e, 0, sizeof(*e));
	if (len > POST_MSG_MAX) {
		snprintf(err, errlen, "longer than %d bytes", POST_MSG_MAX);
		return -EINVAL;
	}
	j = jsonh_parse_object(buf, len, err, errlen);
	if (!j)
		return -EINVAL;
	if (jsonh_only_keys(j, keys, err, errlen) ||
	    jsonh_get_str(j, "type", 1, POST_TYPE_MAX, &type, err, errlen) ||
	    jsonh_get_str(j, "severity", 0, 16, &sev, err, errlen) ||
	    jsonh_get_str(j, "publisher", 1, INSTR_PUBLISHER_MAX, &publisher, err, errlen))
		goto out;
	if (instr_name_check(type, inner, sizeof(inner))) {
		snprintf(err, errlen, "type: '%.*s' must be dot-separated segments of [a-z0-9_-]",
			 POST_TYPE_MAX, type);
		goto out;
	}
	e->severity = INSTR_SEV_INFO;
	if (sev && instr_severity_parse(sev, &e->severity)) {
		snprintf(err, errlen,
			 "severity: must be debug, info, notice, warning, error or critical");
		goto out;
	}
	if (instr_publisher_check(publisher, err, errlen))
		goto out;
	if (!strncmp(publisher, "snow-agent", 10)) {
		snprintf(err, errlen, "publisher: '%s' is the agent's own name", publisher);
		goto out;
	}
	attrs = json_object_get(j, "attrs");
	if (attrs && (!json_is_object(attrs) || json_object_size(attrs) > POST_ATTRS_MAX)) {
		snprintf(err, errlen, "attrs: must be an object of at most %d members",
			 POST_ATTRS_MAX);
		goto out;
	}
	snprintf(e->type, sizeof(e->type), "%s%s", POST_PREFIX, type);
	snprintf(e->publisher, sizeof(e->publisher), "%s", publisher);
	e->attrs = attrs ? json_deep_copy(attrs) : json_object();
	if (!e->attrs) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int post_open(struct post_sock *ps, const char *path, long gid, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	int one = 1, rc;

	memset(ps, 0, sizeof(*ps));
	ps->fd = -1;
	ps->gid = gid;
	ps->tokens = POST_BURST;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "event_socket: '%s' is longer than %zu characters", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A socket left by the agent before us goes; anything else stays. */
	if (!lstat(path, &sb)) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "event_socket: %s exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path);
	}
	ps->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ps->fd < 0)
		goto err_errno;
	/* The kernel's word on who sent each datagram. */
	if (setsockopt(ps->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		goto err_errno;
	if (bind(ps->fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto err_errno;
	if (chmod(path, 0660) || (gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid)))
		goto err_errno;
	snprintf(ps->path, sizeof(ps->path), "%s", path);
	return 0;

err_errno:
	rc = -errno;
	snprintf(err, errlen, "event_socket: %s: %s", path, strerror(errno));
	if (ps->fd >= 0)
		close(ps->fd);
	ps->fd = -1;
	return rc;
}

void post_close(struct post_sock *ps)
{
	if (ps->fd < 0)
		return;
	close(ps->fd);
	unlink(ps->path);
	ps->fd = -1;
}

/* Answer a sender that has an address (snow-event binds one); never blocks. */
static void post_reply(struct post_sock *ps, const struct sockaddr_un *to, socklen_t tolen,
		       const char *text)
{
	if (tolen <= sizeof(sa_family_t))
		return;
	sendto(ps->fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)to,
	       tolen);
}

/* One refusal: counted, logged at most 5 times a burst. */
static void post_refuse(struct post_sock *ps, const struct sockaddr_un *from, socklen_t fromlen,
			const char *why, long pid)
{
	char text[300];

	ps->refused++;
	if (ps->refused_logged++ < 5)
		log_warnx("event_socket: refused an event from pid %ld: %s", pid, why);
	snprintf(text, sizeof(text), "refused: %s", why);
	post_reply(ps, from, fromlen, text);
}

int post_drain(struct post_sock *ps, long long now_ms,
	       uint64_t (*emit)(void *ctx, struct post_event *e), void *ctx)
{
	char buf[POST_MSG_MAX + 1];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	unsigned n = 0;
	int taken = 0;

	if (ps->fd < 0)
		return 0;
	/* Refill the bucket for the time gone by. */
	if (ps->last_ms) {
		ps->tokens += (double)(now_ms - ps->last_ms) * POST_RATE / 1000.0;
		if (ps->tokens > POST_BURST)
			ps->tokens = POST_BURST;
		else if (ps->tokens >= 1)
			ps->refused_logged = 0; /* the burst is over */
	}
	ps->last_ms = now_ms;
	while (n++ < 256) {
		struct sockaddr_un from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.space, .msg_controllen = sizeof(cm.space) };
		struct ucred *cred = NULL;
		struct cmsghdr *c;
		struct post_event e;
		char err[200], text[64];
		ssize_t len = recvmsg(ps->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		uint64_t seq;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred)))
				cred = (struct ucred *)CMSG_DATA(c);
		if (!cred) {
			post_refuse(ps, &from, mh.msg_namelen, "no credentials", -1);
			continue;
		}
		if (cred->uid != 0 && cred->uid != geteuid() &&
		    !(ps->gid >= 0 && cred->gid == (gid_t)ps->gid)) {
			post_refuse(ps, &from, mh.msg_namelen, "permission: not root, the agent's "
				    "user or event_group", (long)cred->pid);
			continue;
		}
		if ((mh.msg_flags & MSG_TRUNC) || len > POST_MSG_MAX) {
			post_refuse(ps, &from, mh.msg_namelen, "longer than 4096 bytes",
				    (long)cred->pid);
			continue;
		}
		if (ps->tokens < 1) {
			post_refuse(ps, &from, mh.msg_namelen, "rate: more than 20 events a second",
				    (long)cred->pid);
			continue;
		}
		if (post_parse(buf, (size_t)len, &e, err, sizeof(err))) {
			post_refuse(ps, &from, mh.msg_namelen, err, (long)cred->pid);
			continue;
		}
		ps->tokens -= 1;
		json_object_set_new(e.attrs, "pid", json_integer(cred->pid));
		json_object_set_new(e.attrs, "uid", json_integer(cred->uid));
		seq = emit(ctx, &e);
		ps->taken++;
		taken++;
		snprintf(text, sizeof(text), seq ? "ok %llu" : "refused: not kept",
			 (unsigned long long)seq);
		post_reply(ps, &from, mh.msg_namelen, text);
	}
	return taken;
}
