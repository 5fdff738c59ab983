/*
 * snowtop's panels, private to console/tui/ui*.c: each kind of panel is a
 * const class (htop's PanelClass) that draws itself and owns its keys and
 * its selection.  ui.c picks the panel that has the focus and hands it the
 * keys; a panel never calls snowtop.c: what needs the API it answers as a
 * verb (enum ui_verb) for snowtop.c to do.
 */
#ifndef SNOW_TOP_PANEL_H
#define SNOW_TOP_PANEL_H

#include <stddef.h>

#include "top.h"

enum { C_ONLINE = 1, C_BOOTING, C_RAISED, C_OFFLINE, C_DISC, C_HEAD, C_BAR, C_KEY, C_KEYTXT, C_BAR_LO,
       C_BAR_MID, C_BAR_HI, C_SEL, C_TITLE };

struct panel_class {
	const char *name;
	/* Draw into rows [y, y + h).  @ret rows used. */
	int (*draw)(struct top *t, int y, int h);
	/*
	 * A key while the panel has the focus.  @ret UI_PASS when it is not
	 * the panel's, UI_DONE when the panel did all there was to do, or what
	 * the caller must do.  NULL: the panel takes no key.
	 */
	enum ui_verb (*on_key)(struct top *t, int ch);
	/* The footer's eight key hints {key, label} while it has the focus. */
	const char *const (*hints)[2];
};

/* ui_list.c, ui_node.c */
extern const struct panel_class list_panel;
extern const struct panel_class node_panel;

/* draw.c: colours and number formats every panel uses. */
int state_color(enum top_state s);
int level_color(double frac);
void fmt_dur(char *out, size_t len, double s);
void fmt_num(char *out, size_t len, double v);

#endif
