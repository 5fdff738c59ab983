# console/: the web console (static files snowd serves from build/share/snow/web)
# and snowtop, the ncurses console.  Both are clients of snowd's API.

# npm comes with nodesource's nodejs; Debian's npm package would fight it.
DEB_PACKAGES += chromium firefox-esr tmux libncurses-dev nodejs $(if $(shell command -v npm),,npm)

# --- web console --------------------------------------------------------------
# No build step: the files are served as they are.  The npm libraries are
# pinned in console/web/package-lock.json; `npm ci` fetches them once.
WEB_DIR   := $(B)/share/snow/web
WEB_SRCS  := $(wildcard console/web/*.html console/web/*.js console/web/*.css)
WEB_NPM   := console/web/node_modules/.package-lock.json
WEB_VENDOR := node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE
WEB_FILES := $(WEB_SRCS:console/web/%=$(WEB_DIR)/%) $(addprefix $(WEB_DIR)/,$(WEB_VENDOR))

$(WEB_NPM): console/web/package.json console/web/package-lock.json
	cd console/web && npm ci --silent --no-audit --no-fund --loglevel=error
	@touch $@

$(addprefix console/web/,$(WEB_VENDOR)): $(WEB_NPM)

$(WEB_DIR)/%: console/web/%
	@mkdir -p $(@D)
	install -m 0644 $< $@

# Browser tests' npm dependencies (playwright-core; it never downloads a browser).
CONSOLE_TEST_NPM := tests/console/node_modules/.package-lock.json
$(CONSOLE_TEST_NPM): tests/console/package.json tests/console/package-lock.json
	cd tests/console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund --loglevel=error
	@touch $@
.PHONY: console-test-deps
console-test-deps: $(CONSOLE_TEST_NPM)

BINS += $(WEB_FILES)

# --- snowtop --------------------------------------------------------------------
TOP_SRCS := $(wildcard console/tui/*.c)
TOP_LDLIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) $(LDLIBS_JSON) -lgnutls -lm

$(BIN)/snowtop: $(TOP_SRCS:%.c=$(OBJ)/%.o) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(TOP_LDLIBS)

BINS += $(BIN)/snowtop
