/* The files of firmware/, compiled in (see firmware.mk). */
#ifndef SNOW_FIRMWARE_TEMPLATES_H
#define SNOW_FIRMWARE_TEMPLATES_H

extern const char fw_first_ipxe[];
extern const char fw_node_ipxe[];
extern const char fw_unknown_ipxe[];
extern const char fw_dnsmasq_conf[];

#endif
