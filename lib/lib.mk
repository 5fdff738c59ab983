# libsnow.a: code shared by host, node and tools.
LIB_SRCS := $(wildcard lib/*.c)
LIBSNOW  := $(B)/lib/libsnow.a
LIBSNOW_T := $(B)/lib/libsnow-t.a

$(LIBSNOW): $(LIB_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# The same library built with sanitizers, for tests.
$(LIBSNOW_T): $(LIB_SRCS:%.c=$(TOBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
