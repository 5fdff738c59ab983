/*
 * snowtop: an htop-like console for a Snow cluster, a client of snowd's API
 * and event stream.  The screen is made of panels (header, node list, node
 * page, events, help) and the header of meters; each is a small const class
 * with designated initializers, as htop's Panel and Meter.
 */
#ifndef SNOW_TOP_H
#define SNOW_TOP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "follow.h"
#include "httpc.h"
#include "model.h"
#include "sse.h"

/* Options: one table for the command line and --config FILE (lib/conf.h). */
struct top_conf {
	char *config;
	char *url;
	char *token;
	char *token_file;
	long delay_ms;     /* the screen is redrawn at most this often */
	long events_lines; /* height of the events pane, 0 hides it */
	int no_color;
	int check;
};

enum top_sort { SORT_NAME, SORT_STATE, SORT_LOAD, SORT_MEM, SORT_PROCS, SORT_UPTIME, SORT_ALERTS, SORT_COUNT };
enum top_view { VIEW_LIST, VIEW_NODE };
enum top_tab { TAB_VALUES, TAB_DEVICES, TAB_THRESHOLDS, TAB_EVENTS, TAB_COUNT };
enum top_modal { MODAL_NONE, MODAL_MENU, MODAL_CONFIRM, MODAL_PROMPT, MODAL_HELP };

/*
 * What a key asks of snowtop.c, which holds the API: a panel's on_key (and
 * ui_key()) answers one of these and never calls snowtop.c itself.
 */
enum ui_verb {
	UI_PASS,            /* not the panel's key */
	UI_DONE,            /* handled: nothing more to do */
	UI_QUIT,
	UI_RECONNECT,       /* cut the stream and connect again */
	UI_OPEN_NODE,       /* the list's cursor node: open its page */
	UI_BACK,            /* the node page was left (view is the list again) */
	UI_ACTIONS,         /* the node actions menu for the tagged nodes or the cursor's */
	UI_DEVICE_OPS,      /* the node page's device under the cursor: its operations */
	UI_THRESHOLD_SET,
	UI_THRESHOLD_CLEAR,
	UI_WM_RESET,
};

struct top;
/* What a menu item, a confirmation or a prompt does when taken. */
typedef void (*top_action_fn)(struct top *t, int item, const char *input);

#define TOP_MENU_MAX 12
/* What the list and its meters show: the main stream carries only these values. */
#define TOP_LIST_VALUES                                                                            \
	"vm.load.avg1,kern.mem.total_kb,kern.mem.avail_kb,kern.mem.free_kb,kern.procs.count,"     \
	"sys.uptime_s,hw.temp.cpu,hw.cpu.online,kern.cpu.online"


struct top_modal_box {
	enum top_modal kind;
	char title[120];
	char text[3][240];             /* what will happen, said before it does */
	char items[TOP_MENU_MAX][40];
	int nitems, sel;
	char input[160];
	size_t input_len;
	top_action_fn fn;
	int arg;                       /* the item a confirmation stands for */
	char ctx[160];                 /* e.g. the op or device path the box is about */
};

struct top {
	struct top_conf conf;
	struct http_url url;
	char token[200];
	char role[16];
	struct follow fl;           /* every node, the list's values only (TOP_LIST_VALUES) */
	struct sse_client node_sse; /* the open node's whole updates (node page only) */
	int node_sse_on;
	unsigned node_sse_gen;      /* bumped at each open */
	struct top_model m;
	int connected;
	char conn_why[160];
	/* the list */
	enum top_view view;
	size_t *idx;          /* visible nodes, sorted */
	size_t nidx, idx_cap;
	int sel, scroll;
	int list_rows;        /* rows the list panel had at its last draw */
	char sel_name[TOP_NAME_MAX];
	enum top_sort sort;
	int sort_desc;
	char filter[64];
	int state_filter;     /* -1: any, else enum top_state */
	/* the node page */
	char node[TOP_NAME_MAX];
	enum top_tab tab;
	int item_sel, item_scroll;
	json_t *node_events;  /* newest first: GET /api/v1/events?node= then live */
	/* dialogs and the status line */
	struct top_modal_box modal;
	char status[240];
	int64_t status_ms;
	int64_t watch_cmd;    /* the last command sent: its progress shows in the status line */
	char watch_desc[120];
	int dirty;
	int64_t last_draw_ms;
	uint64_t draws;
	int quit;
};

/* ui.c: draw the whole screen (only when dirty, from the loop). */
void ui_init(struct top *t);
void ui_draw(struct top *t);
void ui_end(void);
/*
 * A key: an open dialog takes it first, then the screen's own keys (help,
 * events pane), then the panel that has the focus.  @ret what snowtop.c
 * must do (enum ui_verb).
 */
enum ui_verb ui_key(struct top *t, int ch);
/* ui_list.c: rebuild t->idx from the model, the filter and the sort. */
void ui_reindex(struct top *t);
/* ui_list.c: the node the list's cursor is on, or NULL. */
struct top_node *ui_selected(struct top *t);

/* The status line (ui.c). */
void top_status(struct top *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const char *const top_sort_names[SORT_COUNT];
extern const char *const top_tab_names[TAB_COUNT];

#endif
