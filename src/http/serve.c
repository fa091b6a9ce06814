/* Placeholder until the command lands. */
#include <stdio.h>

#include "tools/commands.h"

int atd_cmd_serve(int argc, char **argv)
{
    fprintf(stderr, "attribd serve: not implemented yet\n");
    return 1;
}
