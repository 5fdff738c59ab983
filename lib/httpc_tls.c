/* GnuTLS for lib/httpc: only programs that call httpc_tls_enable() link it. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "httpc.h"

struct httpc_tls_session {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
};

static void tls_close(void *p)
{
	struct httpc_tls_session *t = p;

	gnutls_deinit(t->s);
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

static void *tls_open(int fd, const char *host, long long deadline, char *err, size_t errlen)
{
	struct httpc_tls_session *t = calloc(1, sizeof(*t));
	const char *ca = getenv("SNOW_CA");
	int rc;

	if (!t || gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		free(t);
		snprintf(err, errlen, "tls: out of memory");
		return NULL;
	}
	rc = ca ? gnutls_certificate_set_x509_trust_file(t->cred, ca, GNUTLS_X509_FMT_PEM) :
		  gnutls_certificate_set_x509_system_trust(t->cred);
	if (rc <= 0) {
		snprintf(err, errlen, "tls: no trusted certificates in %s", ca ? ca : "the system store");
		gnutls_certificate_free_credentials(t->cred);
		free(t);
		return NULL;
	}
	gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	gnutls_set_default_priority(t->s);
	gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred);
	/* Checks the chain and that the certificate names host (DNS name or IP). */
	gnutls_session_set_verify_cert(t->s, host, 0);
	gnutls_transport_set_int(t->s, fd);
	for (;;) {
		rc = gnutls_handshake(t->s);
		if (rc == GNUTLS_E_SUCCESS)
			return t;
		if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED) {
			if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
				snprintf(err, errlen, "tls: %s: certificate not trusted or not for this "
						      "name (set SNOW_CA to the CA or certificate file)", host);
			else
				snprintf(err, errlen, "tls: %s: %s", host, gnutls_strerror(rc));
			tls_close(t);
			return NULL;
		}
		struct pollfd p = { .fd = fd,
				    .events = gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN };
		long long left = deadline - clock_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			snprintf(err, errlen, "tls: %s: handshake timed out", host);
			tls_close(t);
			return NULL;
		}
	}
}

static ssize_t tls_map(ssize_t r)
{
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	/* A peer closing without close_notify ends the answer like EOF. */
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	return -EPROTO;
}

static ssize_t tls_send(void *p, const void *buf, size_t n)
{
	return tls_map(gnutls_record_send(((struct httpc_tls_session *)p)->s, buf, n));
}

static ssize_t tls_recv(void *p, void *buf, size_t n)
{
	return tls_map(gnutls_record_recv(((struct httpc_tls_session *)p)->s, buf, n));
}

static int tls_wants_write(void *p)
{
	return gnutls_record_get_direction(((struct httpc_tls_session *)p)->s);
}

static const struct httpc_tls_ops tls_ops = {
	.open = tls_open,
	.send = tls_send,
	.recv = tls_recv,
	.wants_write = tls_wants_write,
	.close = tls_close,
};

int httpc_tls_enable(void)
{
	if (gnutls_global_init() < 0)
		return -EIO;
	httpc_set_tls(&tls_ops);
	return 0;
}
