/* The kernel logs' node table (klog_state.h): one entry a node, sorted by id. */
#include "klog_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where id is in k->nodes (sorted by id), or where it would go. */
static size_t klog_node_at(const struct klog *k, int64_t id)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->nodes[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The node's entry, made (under name) when absent and name is given.  Kept
 * sorted by id: every node list, report and registration looks one up, and a
 * scan of 10,000 entries each was 12 % of snowd's time in a reboot of 10,000
 * nodes.
 */
struct klog_node *klog_node(struct klog *k, int64_t id, const char *name)
{
	struct klog_node *kn, **grown;
	size_t at = klog_node_at(k, id);

	if (at < k->n && k->nodes[at]->id == id)
		return k->nodes[at];
	if (!name)
		return NULL;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;
		grown = realloc(k->nodes, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		k->nodes = grown;
		k->cap = cap;
	}
	kn = calloc(1, sizeof(*kn));
	if (!kn)
		return NULL;
	kn->id = id;
	kn->fd = -1;
	kn->tokens = -1; /* full at the first datagram */
	snprintf(kn->name, sizeof(kn->name), "%s", name);
	memmove(&k->nodes[at + 1], &k->nodes[at], (k->n - at) * sizeof(*k->nodes));
	k->nodes[at] = kn;
	k->n++;
	return kn;
}

void klog_node_free(struct klog_node *kn)
{
	if (kn->fd >= 0)
		close(kn->fd);
	buf_free(&kn->crash_text);
	free(kn);
}

void klog_node_drop(struct klog *k, int64_t id)
{
	size_t i = klog_node_at(k, id);

	if (i < k->n && k->nodes[i]->id == id) {
		klog_node_free(k->nodes[i]);
		memmove(&k->nodes[i], &k->nodes[i + 1], (k->n - i - 1) * sizeof(*k->nodes));
		k->n--;
	}
}
