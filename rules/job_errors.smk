"""Failed jobs on the console: every job writes its output into its log only, so the
Snakefile's `onerror` prints the error line of each failed job's log on stderr (a plain
`snakemake` run shows no log; the profiles' show-failed-logs shows whole logs)."""


def job_errors(jobs):
    """[(rule, log, line)] of the failed `jobs`: the error line of each log that has one
    (crossclass.errors.error_line); a job none of whose logs has one gives their last lines.
    A group job (a SLURM submission) is read member by member, on the submitting machine."""
    from crossclass.errors import error_line

    found = []
    for job in jobs:
        logs = {}
        for member in getattr(job, "jobs", [job]):
            for path in map(str, member.log):
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        f.seek(max(0, os.path.getsize(path) - 65536))  # a traceback's end
                        logs[(member.rule.name, path)] = f.read().decode(errors="replace")
        lines = {key: error_line(text, fallback=False) for key, text in logs.items()}
        if not any(lines.values()):
            lines = {key: error_line(text) for key, text in logs.items()}
        found += sorted((rule, path, line) for (rule, path), line in lines.items() if line)
    return found
