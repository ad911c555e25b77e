/*
 * The subcommands, one line each, in the order --help lists them.  Each
 * cmd-NAME.c defines cmd_NAME_entry.
 */
CMD(demo)
CMD(version)
CMD(init)
CMD(import)
CMD(stats)
CMD(label)
CMD(export)
