/*
 * snowtop: the Snow cluster in a terminal, htop-style.
 *   snowtop [--url URL] [--token TOKEN] [--config FILE] ...
 * URL and token as snowctl: --url/--token, else SNOW_URL/SNOW_TOKEN, else
 * SNOW_TOKEN_FILE or /var/lib/snow/admin.token, and http://127.0.0.1:8080.
 *
 * One poll loop: the keyboard, the stream socket and a timer.  lib/follow
 * keeps to docs/api.md's "Following the cluster": the node list comes from
 * GET /api/v1/nodes once the stream is up (again after a cut or when the
 * stream names a node we do not know), the events missed are caught up by
 * id; everything else comes from the stream, so a quiet cluster costs
 * nothing.  Commands are short
 * blocking requests (lib/httpc) whose progress the stream then reports.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <ncurses.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "follow.h"
#include "jsonh.h"
#include "log.h"
#include "selfpipe.h"
#include "top.h"

#define API_TIMEOUT_MS 10000

static const struct conf_option top_options[] = {
	{ "config", 'c', CONF_STR, offsetof(struct top_conf, config), 0, 0, "FILE",
	  "read options from FILE (key = value)" },
	{ "url", 'u', CONF_STR, offsetof(struct top_conf, url), 0, 0, "URL",
	  "snowd, http://HOST:PORT (default $SNOW_URL, then http://127.0.0.1:8080)" },
	{ "token", 't', CONF_STR, offsetof(struct top_conf, token), 0, 0, "TOKEN",
	  "API token (default $SNOW_TOKEN, then the token file)" },
	{ "token-file", 0, CONF_STR, offsetof(struct top_conf, token_file), 0, 0, "FILE",
	  "read the token from FILE (default $SNOW_TOKEN_FILE, then /var/lib/snow/admin.token)" },
	{ "delay-ms", 'd', CONF_INT, offsetof(struct top_conf, delay_ms), 50, 10000, "MS",
	  "redraw at most every MS (default 500)" },
	{ "events-lines", 'e', CONF_INT, offsetof(struct top_conf, events_lines), 0, 100, "N",
	  "height of the live events pane, 0 hides it (default 6)" },
	{ "no-color", 'C', CONF_BOOL, offsetof(struct top_conf, no_color), 0, 0, NULL, "no colours" },
	{ "check-config", 'n', CONF_BOOL, offsetof(struct top_conf, check), 0, 0, NULL,
	  "check the options and exit" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

/*
 * One API call.  *out (may be NULL) gets the parsed answer, which the caller
 * json_decref()s.  @ret the HTTP status, or -errno with err filled.
 */
static int top_api(struct top *t, const char *method, const char *path, json_t *body, json_t **out,
		   char *err, size_t errlen)
{
	char auth[240], *text = NULL, msg[256];
	const struct http_header h[] = { { "Authorization", auth },
					 { "Content-Type", "application/json" } };
	struct http_response resp;
	json_t *reply = NULL;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", t->token);
	if (body)
		text = jsonh_dump(body);
	rc = http_request(&t->url, method, path, h, 2, text, text ? strlen(text) : 0, API_TIMEOUT_MS,
			  &resp, err, errlen);
	free(text);
	if (rc) {
		http_response_free(&resp);
		return rc;
	}
	if (resp.body.len)
		reply = jsonh_parse_object(resp.body.data, resp.body.len, msg, sizeof(msg));
	rc = resp.status;
	if (rc < 200 || rc > 299) {
		const char *e = reply ? json_string_value(json_object_get(reply, "error")) : NULL;
		snprintf(err, errlen, "%s", e ? e : "snowd refused");
	}
	http_response_free(&resp);
	if (out && rc >= 200 && rc <= 299)
		*out = reply;
	else
		json_decref(reply);
	return rc;
}

/* The node page's events: GET /api/v1/events?node= (newest first), then live ones. */
static void top_load_node_events(struct top *t, const char *node)
{
	char path[160], err[256];
	json_t *ans = NULL;

	snprintf(path, sizeof(path), "/api/v1/events?limit=200&node=%s", node);
	if (top_api(t, "GET", path, NULL, &ans, err, sizeof(err)) != 200)
		return;
	json_decref(t->node_events);
	t->node_events = json_incref(json_object_get(ans, "events"));
	json_decref(ans);
}

/* --- stream ----------------------------------------------------------------- */

/*
 * The cluster, followed by lib/follow (docs/api.md "Following the
 * cluster"): these keep the model from what it learns.
 */
static void on_list(void *ctx, json_t *answer)
{
	struct top *t = ctx;

	if (model_load(&t->m, answer))
		top_status(t, "cannot read the nodes: not a node list");
	ui_reindex(t); /* the list's index must not point past the new array */
	t->dirty = 1;
}

static void on_node(void *ctx, json_t *msg)
{
	struct top *t = ctx;

	model_node(&t->m, msg);
	t->dirty = 1;
}

static void on_removed(void *ctx, const char *name)
{
	struct top *t = ctx;

	model_remove(&t->m, name);
	ui_reindex(t);
	t->dirty = 1;
}

static void on_values(void *ctx, json_t *msg)
{
	struct top *t = ctx;

	if (model_values(&t->m, msg, 1))
		t->dirty = 1;
	t->m.last_values_ms = clock_mono_ms();
}

static void on_event(void *ctx, json_t *ev)
{
	struct top *t = ctx;

	model_event(&t->m, ev);
	if (t->node_events && !strcmp(t->node, json_string_value(json_object_get(ev, "node")) ?: ""))
		json_array_insert(t->node_events, 0, ev);
	t->dirty = 1;
}

static void on_command(void *ctx, json_t *msg)
{
	struct top *t = ctx;
	const char *st, *er;

	if (!t->watch_cmd || json_integer_value(json_object_get(msg, "id")) != t->watch_cmd)
		return;
	st = json_string_value(json_object_get(msg, "state"));
	er = json_string_value(json_object_get(msg, "error"));
	top_status(t, "%s: %s%s%s", t->watch_desc, st ? st : "?", er ? ": " : "", er ? er : "");
}

static void on_state(void *ctx, int up, const char *why)
{
	struct top *t = ctx;

	t->connected = up;
	snprintf(t->conn_why, sizeof(t->conn_why), "%s", why);
	t->dirty = 1;
}

static void on_error(void *ctx, const char *why)
{
	top_status(ctx, "cannot read the nodes: %s", why);
}

static const struct follow_ops top_follow_ops = {
	.on_list = on_list,
	.on_node = on_node,
	.on_removed = on_removed,
	.on_values = on_values,
	.on_event = on_event,
	.on_command = on_command,
	.on_state = on_state,
	.on_error = on_error,
};

/*
 * The node page's own stream: all of one node's values (the main stream
 * carries only what the list shows).  Its node, event and command messages
 * repeat the main stream's and are left alone.
 */
static void on_node_message(void *ctx, const char *event, const char *data, size_t len)
{
	struct top *t = ctx;
	json_t *msg;

	if (strcmp(event, "values"))
		return;
	msg = json_loadb(data, len, 0, NULL);
	if (json_is_object(msg) && model_values(&t->m, msg, 0))
		t->dirty = 1;
	json_decref(msg);
}

static void on_node_state(void *ctx, int up, const char *why)
{
	(void)ctx, (void)up, (void)why;
}

static const struct sse_ops node_sse_ops = { .on_message = on_node_message, .on_state = on_node_state };

static void node_stream_close(struct top *t)
{
	if (t->node_sse_on)
		sse_free(&t->node_sse);
	t->node_sse_on = 0;
}

static void node_stream_open(struct top *t)
{
	char path[128];

	node_stream_close(t);
	snprintf(path, sizeof(path), "/api/v1/stream?values=&full=%s", t->node);
	if (!sse_init(&t->node_sse, &t->url, path, t->token, &node_sse_ops, t))
		t->node_sse_on = 1;
	t->node_sse_gen++;
}

/* --- actions ----------------------------------------------------------------- */

struct node_action {
	const char *op;
	const char *label;
	const char *what;
};

static const struct node_action node_actions[] = {
	{ "reboot", "Reboot", "The agent answers, then reboots the node cleanly: offline, network boot, online again." },
	{ "poweroff", "Shut down", "The agent powers the node off from inside; it stays off until powered on." },
	{ "power.on", "Power on", "snowd's power driver (QMP, IPMI) switches the node on; it boots from the network." },
	{ "power.off", "Power off", "snowd's power driver cuts the power at once: no clean shutdown." },
	{ "power.cycle", "Power cycle", "snowd's power driver switches the node off and on: a hard reset." },
	{ "config.reload", "Reload config", "The node fetches its overlay again and applies thresholds and variables." },
};
#define N_ACTIONS (sizeof(node_actions) / sizeof(node_actions[0]))

/* The nodes an action applies to: the tagged ones, else the one under the cursor. */
static size_t targets(struct top *t, const char **names, size_t max)
{
	size_t n = 0;

	if (t->view == VIEW_NODE) {
		names[0] = t->node;
		return 1;
	}
	for (size_t i = 0; i < t->m.n && n < max; i++)
		if (t->m.nodes[i].tagged)
			names[n++] = t->m.nodes[i].name;
	if (!n && ui_selected(t))
		names[n++] = ui_selected(t)->name;
	return n;
}

/* POST a command to each node; the last one's progress is followed. */
static void send_command(struct top *t, const char **names, size_t n, const char *op, json_t *args,
			 const char *desc)
{
	size_t ok = 0, i;
	char path[160], err[256] = "";
	int64_t last = 0;

	for (i = 0; i < n; i++) {
		json_t *body = json_pack("{s:s, s:O}", "op", op, "args", args), *ans = NULL;
		int rc;
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/commands", names[i]);
		rc = top_api(t, "POST", path, body, &ans, err, sizeof(err));
		json_decref(body);
		if (rc == 202) {
			ok++;
			last = json_integer_value(json_object_get(ans, "id"));
		}
		json_decref(ans);
	}
	json_decref(args);
	if (n == 1 && ok == 1) {
		t->watch_cmd = last;
		snprintf(t->watch_desc, sizeof(t->watch_desc), "%s %s (command %lld)", desc, names[0],
			 (long long)last);
		top_status(t, "%s: queued", t->watch_desc);
	} else if (ok == n) {
		t->watch_cmd = 0;
		top_status(t, "%s: queued for %zu nodes", desc, n);
	} else {
		t->watch_cmd = 0;
		top_status(t, "%s: %zu of %zu queued; refused: %s", desc, ok, n, err);
	}
}

static int may_act(struct top *t)
{
	if (!strcmp(t->role, "viewer")) {
		top_status(t, "role viewer: this token may only look (ask for an operator token)");
		return 0;
	}
	return 1;
}

static void confirm(struct top *t, top_action_fn fn, int arg, const char *ctx, const char *title,
		    const char *l1, const char *l2)
{
	struct top_modal_box *m = &t->modal;

	memset(m, 0, sizeof(*m));
	m->kind = MODAL_CONFIRM;
	m->fn = fn;
	m->arg = arg;
	snprintf(m->ctx, sizeof(m->ctx), "%s", ctx ? ctx : "");
	snprintf(m->title, sizeof(m->title), "%s", title);
	snprintf(m->text[0], sizeof(m->text[0]), "%s", l1 ? l1 : "");
	snprintf(m->text[1], sizeof(m->text[1]), "%s", l2 ? l2 : "");
	t->dirty = 1;
}

static void do_node_action(struct top *t, int item, const char *input)
{
	const char *names[4096];
	size_t n = targets(t, names, 4096);

	(void)input;
	send_command(t, names, n, node_actions[item].op, json_object(), node_actions[item].label);
}

static void pick_node_action(struct top *t, int item, const char *input)
{
	const char *names[4096];
	size_t n = targets(t, names, 4096);
	char title[120], who[160];

	(void)input;
	if (!n)
		return;
	if (n == 1)
		snprintf(who, sizeof(who), "Node: %s", names[0]);
	else
		snprintf(who, sizeof(who), "Nodes: %s, %s%s (%zu tagged)", names[0], names[1],
			 n > 2 ? ", ..." : "", n);
	snprintf(title, sizeof(title), "%s %s?", node_actions[item].label,
		 n == 1 ? names[0] : "the tagged nodes");
	confirm(t, do_node_action, item, NULL, title, node_actions[item].what, who);
}

static void menu(struct top *t, const char *title, top_action_fn fn)
{
	struct top_modal_box *m = &t->modal;

	memset(m, 0, sizeof(*m));
	m->kind = MODAL_MENU;
	m->fn = fn;
	snprintf(m->title, sizeof(m->title), "%s", title);
	t->dirty = 1;
}

static void action_menu(struct top *t)
{
	const char *names[4096];
	size_t n;

	if (!may_act(t))
		return;
	n = targets(t, names, 4096);
	if (!n)
		return;
	menu(t, n == 1 ? names[0] : "Tagged nodes", pick_node_action);
	for (size_t i = 0; i < N_ACTIONS; i++)
		snprintf(t->modal.items[i], sizeof(t->modal.items[i]), "%s", node_actions[i].label);
	t->modal.nitems = (int)N_ACTIONS;
}

/* The json row the node page's cursor is on, in the current tab's array. */
static json_t *page_item(struct top *t)
{
	struct top_node *n = model_find(&t->m, t->node);

	if (!n)
		return NULL;
	switch (t->tab) {
	case TAB_VALUES:
		return json_array_get(n->schema, (size_t)t->item_sel);
	case TAB_DEVICES:
		return json_array_get(n->devices, (size_t)t->item_sel);
	case TAB_THRESHOLDS:
		return json_array_get(n->thresholds, (size_t)t->item_sel);
	default:
		return NULL;
	}
}

static void do_device_op(struct top *t, int item, const char *input)
{
	const char *names[1] = { t->node };
	char desc[200];

	(void)item;
	(void)input;
	/* ctx is "PATH OP". */
	char path[128], op[32];
	if (sscanf(t->modal.ctx, "%127s %31s", path, op) != 2)
		return;
	snprintf(desc, sizeof(desc), "%s %s", op, path);
	send_command(t, names, 1, "device", json_pack("{s:s, s:s}", "path", path, "op", op), desc);
}

static void pick_device_op(struct top *t, int item, const char *input)
{
	char path[128], title[160], ctx[160];
	const char *op = t->modal.items[item];
	const char *what;

	(void)input;
	snprintf(path, sizeof(path), "%.127s", t->modal.ctx);
	what = !strcmp(op, "offline") ? "The device is taken offline (a CPU: its sysfs online = 0); the node runs on without it." :
	       !strcmp(op, "online") ? "The device is brought back online." :
	       !strcmp(op, "disable") ? "The device becomes disabled: it cannot go online until enabled." :
	       !strcmp(op, "enable") ? "The device becomes enabled again." :
	       !strcmp(op, "shutdown") ? "The agent shuts the device down." :
	       !strcmp(op, "diag") ? "The intrusive diagnostic runs (the device must be offline)." :
				     "The non-intrusive audit runs.";
	snprintf(title, sizeof(title), "%.20s %.64s on %.40s?", op, path, t->node);
	snprintf(ctx, sizeof(ctx), "%s %s", path, op);
	confirm(t, do_device_op, 0, ctx, title, what, NULL);
}

static void device_menu(struct top *t)
{
	json_t *d = page_item(t), *op;
	size_t i;

	if (!d || !may_act(t))
		return;
	menu(t, json_string_value(json_object_get(d, "path")) ?: "device", pick_device_op);
	snprintf(t->modal.ctx, sizeof(t->modal.ctx), "%s", json_string_value(json_object_get(d, "path")) ?: "");
	json_array_foreach(json_object_get(d, "ops"), i, op) {
		if (i >= TOP_MENU_MAX)
			break;
		snprintf(t->modal.items[i], sizeof(t->modal.items[i]), "%s", json_string_value(op) ?: "?");
		t->modal.nitems++;
	}
	if (!t->modal.nitems) {
		t->modal.kind = MODAL_NONE;
		top_status(t, "the device allows no operation in its state");
	}
}

static void do_threshold_set(struct top *t, int item, const char *input)
{
	const char *names[1] = { t->node };
	char value[100], kind[8];
	double rise, clr;
	long samples = 1;

	(void)item;
	(void)input;
	if (sscanf(t->modal.ctx, "%99s %7s %lf %lf %ld", value, kind, &rise, &clr, &samples) < 4)
		return;
	send_command(t, names, 1, "threshold.set",
		     json_pack("{s:s, s:s, s:f, s:f, s:I}", "value", value, "kind", kind, "rise", rise,
			       "clear", clr, "samples", (json_int_t)samples),
		     "threshold.set");
}

static void threshold_entered(struct top *t, int item, const char *input)
{
	char value[100], kind[8], title[160], l1[240], ctx[160];
	double rise, clr;
	long samples = 1;
	int n = sscanf(input, "%99s %7s %lf %lf %ld", value, kind, &rise, &clr, &samples);

	(void)item;
	if (n < 4 || (strcmp(kind, "high") && strcmp(kind, "low")) || samples < 1) {
		top_status(t, "threshold: write VALUE high|low RISE CLEAR [SAMPLES]");
		return;
	}
	snprintf(title, sizeof(title), "Threshold %s %.60s on %.40s?", kind, value, t->node);
	snprintf(l1, sizeof(l1), "Raised when %s goes %s %g (%ld sample%s); cleared back %s %g.", value,
		 !strcmp(kind, "high") ? "above" : "below", rise, samples, samples > 1 ? "s" : "",
		 !strcmp(kind, "high") ? "below" : "above", clr);
	snprintf(ctx, sizeof(ctx), "%s %s %.17g %.17g %ld", value, kind, rise, clr, samples);
	confirm(t, do_threshold_set, 0, ctx, title, l1, "Each raise and clear is an event.");
}

static void threshold_prompt(struct top *t)
{
	struct top_modal_box *m = &t->modal;
	json_t *it = page_item(t);
	const char *value = "vm.load.avg1";

	if (!may_act(t))
		return;
	if (it && (t->tab == TAB_VALUES || t->tab == TAB_THRESHOLDS))
		value = json_string_value(json_object_get(it, t->tab == TAB_VALUES ? "name" : "value")) ?: value;
	memset(m, 0, sizeof(*m));
	m->kind = MODAL_PROMPT;
	m->fn = threshold_entered;
	snprintf(m->title, sizeof(m->title), "Set a threshold on %s", t->node);
	snprintf(m->text[0], sizeof(m->text[0]), "VALUE high|low RISE CLEAR [SAMPLES]");
	snprintf(m->text[1], sizeof(m->text[1]), "high: raised above RISE, cleared below CLEAR (CLEAR <= RISE)");
	m->input_len = (size_t)snprintf(m->input, sizeof(m->input), "%s high ", value);
	t->dirty = 1;
}

static void do_threshold_clear(struct top *t, int item, const char *input)
{
	const char *names[1] = { t->node };
	char value[100], kind[8];

	(void)item;
	(void)input;
	if (sscanf(t->modal.ctx, "%99s %7s", value, kind) == 2)
		send_command(t, names, 1, "threshold.clear", json_pack("{s:s, s:s}", "value", value, "kind", kind),
			     "threshold.clear");
}

static void threshold_clear(struct top *t)
{
	json_t *it = t->tab == TAB_THRESHOLDS ? page_item(t) : NULL;
	char title[160], ctx[160];

	if (!it || !may_act(t))
		return;
	snprintf(ctx, sizeof(ctx), "%s %s", json_string_value(json_object_get(it, "value")) ?: "?",
		 json_string_value(json_object_get(it, "kind")) ?: "?");
	snprintf(title, sizeof(title), "Clear threshold %.70s on %.40s?", ctx, t->node);
	confirm(t, do_threshold_clear, 0, ctx, title, "It is disabled and forgotten.", NULL);
}

static void do_wm_reset(struct top *t, int item, const char *input)
{
	const char *names[1] = { t->node };

	(void)item;
	(void)input;
	send_command(t, names, 1, "watermarks.reset", json_pack("{s:s}", "value", t->modal.ctx),
		     "watermarks.reset");
}

static void wm_reset(struct top *t)
{
	json_t *it = t->tab == TAB_VALUES ? page_item(t) : NULL;
	const char *name = it ? json_string_value(json_object_get(it, "name")) : NULL;
	char title[160];

	if (!name || !may_act(t))
		return;
	snprintf(title, sizeof(title), "Reset the watermarks of %s on %s?", name, t->node);
	confirm(t, do_wm_reset, 0, name, title, "Low and high watermarks restart from the current reading.", NULL);
}

/* --- keys ----------------------------------------------------------------- */

static void open_node(struct top *t, const char *name)
{
	snprintf(t->node, sizeof(t->node), "%s", name);
	t->view = VIEW_NODE;
	t->item_sel = t->item_scroll = 0;
	json_decref(t->node_events);
	t->node_events = json_array();
	top_load_node_events(t, name);
	node_stream_open(t);
}

/* A key: the screen and its panels take it (ui_key); what needs the API is done here. */
static void top_key(struct top *t, int ch)
{
	struct top_node *n;

	switch (ui_key(t, ch)) {
	case UI_PASS:
	case UI_DONE:
		break;
	case UI_QUIT:
		t->quit = 1;
		break;
	case UI_RECONNECT:
		follow_reconnect(&t->fl, clock_mono_ms());
		break;
	case UI_OPEN_NODE:
		n = ui_selected(t);
		if (n)
			open_node(t, n->name);
		break;
	case UI_BACK:
		node_stream_close(t);
		break;
	case UI_ACTIONS:
		action_menu(t);
		break;
	case UI_DEVICE_OPS:
		device_menu(t);
		break;
	case UI_THRESHOLD_SET:
		threshold_prompt(t);
		break;
	case UI_THRESHOLD_CLEAR:
		threshold_clear(t);
		break;
	case UI_WM_RESET:
		wm_reset(t);
		break;
	}
}

/* --- main ----------------------------------------------------------------- */


static int read_token_file(struct top *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[200];

	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		snprintf(t->token, sizeof(t->token), "%s", line);
	}
	fclose(f);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: snowtop [OPTIONS]\nThe Snow cluster in a terminal, htop-style (F1 inside for keys).\n\n");
	conf_usage(f, top_options);
}

int main(int argc, char **argv)
{
	struct top t = { .conf = { .delay_ms = 500, .events_lines = 6 }, .state_filter = -1 };
	/* The list's values only on the main stream; the last 50 events for the pane. */
	const struct follow_conf fconf = { .stream_query = "?values=" TOP_LIST_VALUES,
					   .backlog = 50,
					   .timeout_ms = API_TIMEOUT_MS };
	static const int sigs[] = { SIGTERM, SIGHUP };
	struct selfpipe sig;
	const char *url, *tf;
	char err[512];
	json_t *me = NULL;
	int next, rc;

	setlocale(LC_ALL, "");
	log_init("snowtop", LOG_LVL_WARN);
	if ((rc = conf_early(top_options, NULL, "snowtop", argc, argv)))
		return rc < 0 ? 2 : 0;
	rc = conf_parse_args(top_options, &t.conf, argc, argv, &next, err, sizeof(err));
	if (rc == -ECANCELED) {
		usage(stdout);
		return 0;
	}
	if (rc || next < argc) {
		fprintf(stderr, "snowtop: %s\n", rc ? err : "unexpected argument");
		usage(stderr);
		return 2;
	}
	if (t.conf.config) {
		/* The command line wins: parse the file first, then the arguments again. */
		struct top_conf cli = t.conf;
		memset(&t.conf, 0, sizeof(t.conf));
		t.conf.delay_ms = 500;
		t.conf.events_lines = 6;
		if (conf_parse_file(top_options, &t.conf, cli.config, NULL, NULL, err, sizeof(err))) {
			fprintf(stderr, "snowtop: %s\n", err);
			return 2;
		}
		conf_free(top_options, &cli);
		conf_parse_args(top_options, &t.conf, argc, argv, &next, err, sizeof(err));
	}
	url = t.conf.url ? t.conf.url : getenv("SNOW_URL") ? getenv("SNOW_URL") : "http://127.0.0.1:8080";
	if (http_url_parse(url, &t.url, err, sizeof(err))) {
		fprintf(stderr, "snowtop: --url: %s\n", err);
		return 2;
	}
	/* https:// as for snowctl: GnuTLS, the system's CAs or SNOW_CA. */
	if (t.url.tls && httpc_tls_enable()) {
		fprintf(stderr, "snowtop: GnuTLS did not start\n");
		return 2;
	}
	if (t.conf.token)
		snprintf(t.token, sizeof(t.token), "%s", t.conf.token);
	else if (getenv("SNOW_TOKEN"))
		snprintf(t.token, sizeof(t.token), "%s", getenv("SNOW_TOKEN"));
	else {
		tf = t.conf.token_file ? t.conf.token_file :
		     getenv("SNOW_TOKEN_FILE") ? getenv("SNOW_TOKEN_FILE") : "/var/lib/snow/admin.token";
		read_token_file(&t, tf);
	}
	if (t.conf.check) {
		printf("snowtop: options OK (%s:%s)\n", t.url.host, t.url.port);
		conf_free(top_options, &t.conf);
		return 0;
	}
	if (follow_init(&t.fl, &t.url, t.token, &fconf, &top_follow_ops, &t)) {
		fprintf(stderr, "snowtop: the URL's path or the token is too long\n");
		return 2;
	}
	/* Before the screen takes over: a wrong token or URL is said plainly. */
	rc = top_api(&t, "GET", "/api/v1/me", NULL, &me, err, sizeof(err));
	if (rc == 401 || rc == 403) {
		fprintf(stderr, "snowtop: %s: %s (set SNOW_TOKEN or --token)\n", url, err);
		return 1;
	}
	/* A certificate not trusted does not mend itself (snowd being down does: retry). */
	if (rc < 0 && strstr(err, "certificate not trusted")) {
		fprintf(stderr, "snowtop: %s: %s\n", url, err);
		return 1;
	}
	if (rc == 200)
		snprintf(t.role, sizeof(t.role), "%s", json_string_value(json_object_get(me, "role")) ?: "");
	json_decref(me);

	/* SIGTERM, SIGHUP: leave the screen as it was found. */
	if (selfpipe_open(&sig, sigs, 2, 0)) {
		fprintf(stderr, "snowtop: cannot catch signals\n");
		return 1;
	}
	ui_init(&t);
	t.dirty = 1;
	while (!t.quit) {
		int64_t now = clock_mono_ms();
		struct pollfd p[4] = { { .fd = 0, .events = POLLIN }, { .fd = -1 }, { .fd = -1 },
				       { .fd = sig.rfd, .events = POLLIN } };
		int timeout = follow_timeout_ms(&t.fl, now), ch;
		unsigned node_gen;
		short ev;

		/* Redraw when something changed, at most every delay_ms (htop's delay). */
		if (t.dirty) {
			int64_t wait = t.last_draw_ms + t.conf.delay_ms - now;
			if (wait <= 0 || t.modal.kind != MODAL_NONE || t.last_draw_ms == 0) {
				ui_draw(&t);
				t.dirty = 0;
				t.last_draw_ms = now;
			} else if (timeout < 0 || wait < timeout) {
				timeout = (int)wait;
			}
		}
		if (t.view == VIEW_NODE && (timeout < 0 || timeout > 1000))
			timeout = 1000; /* stage durations tick */
		p[1].fd = follow_pollfd(&t.fl, &ev);
		p[1].events = ev;
		node_gen = t.node_sse_gen;
		if (t.node_sse_on) {
			int nt = sse_timeout_ms(&t.node_sse, now);
			if (nt >= 0 && (timeout < 0 || nt < timeout))
				timeout = nt;
			p[2].fd = sse_pollfd(&t.node_sse, &ev);
			p[2].events = ev;
		}
		/* ncurses' SIGWINCH handler interrupts poll; getch then gives KEY_RESIZE. */
		rc = poll(p, 4, timeout);
		now = clock_mono_ms();
		if (rc < 0 && errno != EINTR)
			break;
		if (selfpipe_next(&sig) > 0)
			break;
		while ((ch = getch()) != ERR)
			top_key(&t, ch);
		follow_step(&t.fl, rc > 0 ? p[1].revents : 0, now);
		/* A key may have closed it or opened it for another node: then what poll said is not its. */
		if (t.node_sse_on)
			sse_step(&t.node_sse, rc > 0 && node_gen == t.node_sse_gen ? p[2].revents : 0, now);
		if (t.view == VIEW_NODE && timeout == 1000)
			t.dirty = 1;
	}
	ui_end();
	selfpipe_close(&sig);
	node_stream_close(&t);
	follow_free(&t.fl);
	model_free(&t.m);
	json_decref(t.node_events);
	free(t.idx);
	conf_free(top_options, &t.conf);
	return 0;
}

