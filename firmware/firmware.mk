# The iPXE scripts and the dnsmasq template are compiled into snowd as C
# strings (build/gen/firmware_templates.c), so one binary carries them.
FW_TEMPLATES := firmware/first.ipxe firmware/node.ipxe firmware/unknown.ipxe firmware/dnsmasq.conf
FW_GEN := $(B)/gen/firmware_templates.c

$(FW_GEN): $(FW_TEMPLATES) firmware/firmware.mk
	@mkdir -p $(@D)
	@{ echo '/* Generated from firmware/ by firmware.mk; do not edit. */'; \
	   echo '#include "firmware_templates.h"'; \
	   for f in $(FW_TEMPLATES); do \
	     n=$$(basename $$f | tr '.-' '__'); \
	     echo "const char fw_$$n[] ="; \
	     sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $$f; \
	     echo ';'; \
	   done; } > $@

$(OBJ)/gen/firmware_templates.o: $(FW_GEN)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ifirmware $(CFLAGS) -c -o $@ $<
$(TOBJ)/gen/firmware_templates.o: $(FW_GEN)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ifirmware $(TCFLAGS) -c -o $@ $<
