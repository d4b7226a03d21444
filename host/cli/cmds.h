/* cmds.h — the subcommands of the cqboot CLI. */
#ifndef CQBOOT_CMDS_H
#define CQBOOT_CMDS_H

int cmd_cq(int argc, char **argv);
int cmd_blocklen(int argc, char **argv);
int cmd_sncv(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* modwt, wmc, wmcc, wlmc, wlmcc: argv[0] names the statistic */
int cmd_wavelet(int argc, char **argv);
/* combines the part files of a sharded run (scale.h) */
int cmd_merge(int argc, char **argv);

#endif
