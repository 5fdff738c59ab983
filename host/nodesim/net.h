/*
 * snow-nodesim's exchanges on the wire (net.c): one non-blocking HTTP/1.1
 * request per connection, at most conf.concurrency in flight, driven by the
 * loop's epoll.  An exchange ends through ns->conn_done, which net.c calls
 * and never names: the transport knows nothing above it.
 */
#ifndef SNOW_NODESIM_NET_H
#define SNOW_NODESIM_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "nodesim.h"

/*
 * Start one exchange for node: connect (from src when not NULL), send req
 * (taken over: the buffer is the conn's afterwards).  @ret 0, -EBUSY (no
 * free slot), or -errno of socket/bind/connect (req freed).
 */
int ns_conn_start(struct nodesim *ns, struct ns_node *node, enum ns_kind kind,
		  const struct in_addr *src, struct buf *req);
/* Drive the conn an epoll event is for; calls ns->conn_done when it ends. */
void ns_conn_event(struct nodesim *ns, struct ns_conn *c, uint32_t events);
/* Fail every exchange past its deadline (through ns->conn_done). */
void ns_conn_expire(struct nodesim *ns, int64_t now_ms);
/* Close every exchange (at exit), without calling ns->conn_done. */
void ns_conn_close_all(struct nodesim *ns);

/*
 * Parse a whole HTTP/1.x answer, its end found by lib/httpc's
 * http_answer_end() (the agent's rule).  *body points into data; *keep
 * says whether the connection may carry the next request.  @ret 0, -EAGAIN
 * (incomplete: more bytes needed; with eof set, that is -EPROTO), or -EPROTO.
 */
int ns_http_parse(const char *data, size_t len, int eof, int *status, const char **body,
		  size_t *bodylen, int *keep);

/*
 * The value of header name (e.g. "X-Snow-Signature") in the answer data
 * (its header block), without leading blanks, into out.  @ret 0, or
 * -ENOENT when absent (out is "").
 */
int ns_http_header(const char *data, size_t len, const char *name, char *out, size_t cap);

#endif
