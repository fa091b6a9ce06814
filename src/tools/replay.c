/* Placeholder until the command lands. */
#include <stdio.h>

#include "tools/commands.h"

int atd_cmd_replay(int argc, char **argv)
{
    fprintf(stderr, "attribd replay: not implemented yet\n");
    return 1;
}
