/*
 * lernet: the operator CLI and daemon entry point. Dispatches to the
 * command table in cli.c.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
