/* attribd: one binary, several commands (serve, import, replay). */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", atd_cmd_serve, "run the HTTP ingest and the services (embedded mode)"},
    {"import", atd_cmd_import, "append NDJSON events with their own ts to the log"},
    {"replay", atd_cmd_replay, "run NDJSON events through the attribution engine"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: attribd COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'attribd COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("attribd 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    /* hidden: not in the usage, for benchmarks only */
    if (!strcmp(argv[1], "gen")) return atd_cmd_gen(argc - 1, argv + 1);
    fprintf(stderr, "attribd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
