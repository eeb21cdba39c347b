# The doze binary: dispatcher + one file per subcommand (tools/cmd-*.c).
TOOL_SRCS += tools/doze.c $(wildcard tools/cmd-*.c)
CHECK_SCRIPTS += $(wildcard tests/cli/*.t)
