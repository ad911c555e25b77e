/*
 * The subcommands, one line each, in the order --help lists them.  Each
 * cmd-NAME.c defines cmd_NAME_entry.
 */
CMD(demo)
CMD(init)
CMD(import)
CMD(label)
CMD(stats)
CMD(export)
CMD(train)
CMD(trainer)
CMD(jobs)
CMD(predict)
CMD(queue)
CMD(models)
CMD(version)
