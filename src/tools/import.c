/* Placeholder until the command lands. */
#include <stdio.h>

#include "tools/commands.h"

int atd_cmd_import(int argc, char **argv)
{
    fprintf(stderr, "attribd import: not implemented yet\n");
    return 1;
}
