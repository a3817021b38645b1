/*  main.c — plateauctl, the operator's command line: finds the subcommand and runs it.
 *
 *  Adding a subcommand, e.g. `plateauctl audit`:
 *    1. Write tools/plateauctl/cmd_audit.c with
 *         int  ctl_audit_run (int argc, char **argv);   argv[0] is "audit"
 *         void ctl_audit_usage (FILE *out);
 *       Parse options with getopt_long, answer --help with the usage on stdout and exit 0,
 *       and return CTL_EXIT_OK, CTL_EXIT_FAIL or CTL_EXIT_USAGE (commands.h).
 *    2. Declare it in commands.h: CTL_COMMAND (audit);
 *    3. Add its line to s_commands below, in the order `plateauctl help` should list it.
 *  CMake builds every .c file of this folder, so there is nothing else to change. Shared
 *  helpers (Redis URL, durations, times, endpoints) are in common.c.
 *
 *  Configuration comes from flags, then from PLATEAU_* variables (PLATEAU_REDIS_URL); nothing
 *  is read from run/stack.env by itself: scripts source it first.
 */
#include <stdio.h>
#include <string.h>
#include "commands.h"

typedef struct {
    const char *name;
    const char *summary;
    int (*run) (int argc, char **argv);
    void (*usage) (FILE *out);
} s_command_t;

static const s_command_t s_commands[] = {
    { "audit", "why a number was or was not called; verify and export the audit", ctl_audit_run, ctl_audit_usage },
    { "clock", "set or advance the virtual clock of running services", ctl_clock_run, ctl_clock_usage },
    { "keygen", "write a CURVE key pair for a service's bus", ctl_keygen_run, ctl_keygen_usage },
    { "keys", "a deployment's credentials as Secrets: make, rotate, retire", ctl_keys_run, ctl_keys_usage },
    { "leads", "submit a CSV, JSON or NDJSON file of leads to the intake", ctl_leads_run, ctl_leads_usage },
    { "lists", "the suppression lists in force, their ages; load a new copy", ctl_lists_run, ctl_lists_usage },
    { "dnc", "add or remove an opt-out (internal do-not-call list)", ctl_dnc_run, ctl_dnc_usage },
    { "consent", "record or revoke a consent", ctl_consent_run, ctl_consent_usage },
    { "scrub", "scrub a file of numbers, with progress", ctl_scrub_run, ctl_scrub_usage },
    { "why", "why the dialer calls a lead or a number when it does, or never", ctl_why_run, ctl_why_usage },
    { "queue", "a campaign's queue: depth, agents, abandon rate, pacing, its head", ctl_queue_run, ctl_queue_usage },
    { "campaign", "define, show, pause or resume a campaign in the dialer", ctl_campaign_run, ctl_campaign_usage },
    { "promises", "promises to pay: open, show, an account's, cancel, KPIs", ctl_promises_run, ctl_promises_usage },
    { "webhooks", "a CRM's webhook subscriptions: list, dead letters, replay", ctl_webhooks_run, ctl_webhooks_usage },
};
#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: plateauctl <command> [arguments]\n"
                  "       plateauctl help [<command>]\n"
                  "       plateauctl <command> --help\n\n"
                  "commands:\n");
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        fprintf (out, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf (out, "\nenvironment:\n"
                  "  PLATEAU_REDIS_URL   Redis of the stack (commands that send on the bus keep their\n"
                  "                      messages in an outbox there until acknowledged)\n"
                  "\nexit status: 0 done, 1 refused or failed, 2 usage error\n");
}

static const s_command_t *
s_find (const char *name)
{
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (strcmp (s_commands[i].name, name) == 0)
            return &s_commands[i];
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return CTL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp (name, "help") == 0 || strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0) {
        if (argc < 3) {
            s_usage (stdout);
            return CTL_EXIT_OK;
        }
        const s_command_t *c = s_find (argv[2]);
        if (!c) {
            fprintf (stderr, "plateauctl: no command '%s' (see plateauctl help)\n", argv[2]);
            return CTL_EXIT_USAGE;
        }
        c->usage (stdout);
        return CTL_EXIT_OK;
    }
    if (strcmp (name, "--version") == 0 || strcmp (name, "version") == 0) {
        printf ("plateauctl %s\n", PLATEAUCTL_VERSION);
        return CTL_EXIT_OK;
    }
    const s_command_t *c = s_find (name);
    if (!c) {
        fprintf (stderr, "plateauctl: no command '%s' (see plateauctl help)\n", name);
        return CTL_EXIT_USAGE;
    }
    return c->run (argc - 1, argv + 1);
}
