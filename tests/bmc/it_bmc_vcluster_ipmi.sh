#!/usr/bin/env bash
# it_bmc_vcluster.sh with `snow-vcluster up --bmc ipmi`: ipmi_sim starts the
# node's VM and carries its serial port (SOL); power off/on through
# ipmitool, bmc.* fresh while off, one SOL log a boot.
BMC=ipmi exec bash "$(dirname "$0")/it_bmc_vcluster.sh"
