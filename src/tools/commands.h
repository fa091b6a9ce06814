/* The commands of the attribd binary. Each takes argv with argv[0] = the command name and
 * returns the process exit status (0 ok, 1 failure, 2 usage or rejected input). */
#ifndef ATTRIBD_TOOLS_COMMANDS_H
#define ATTRIBD_TOOLS_COMMANDS_H

int atd_cmd_serve(int argc, char **argv);  /* src/http/serve.c */
int atd_cmd_import(int argc, char **argv); /* src/tools/import.c */
int atd_cmd_replay(int argc, char **argv); /* src/tools/replay.c */
int atd_cmd_gen(int argc, char **argv);    /* src/tools/gen.c (hidden: benchmarks) */

#endif
