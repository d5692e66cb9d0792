"""A Delta table's log read file by file: what is damaged in it, and the roll-back that repairs it.

delta-rs stops at the first commit file it cannot read (a `_delta_log/00000000000000000012.json`
cut in half by a crash without atomic rename, garbage in it, a gap in the numbering, a checkpoint
that is not Parquet) with a Rust error that names no table. `diagnose` reads the log itself,
through the same pyarrow filesystem the store reads its Parquet files with (a folder or S3), and
says what is wrong in plain words, the last version that can still be read, and which files a
roll-back sets aside. `repair` moves them into `<table>/_damaged/<UTC time>/_delta_log/` (outside
the log: delta-rs never lists it, on a folder or on S3, and vacuum skips folders starting with
`_`) and never deletes one: on S3 each is copied, the copy checked, and only then the original
deleted.

Only what a reader of the newest version needs is checked: the newest checkpoint that reads and
the commits after it. A damaged commit older than a good checkpoint harms no read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

COMMIT_RE = re.compile(r"^(\d{20})\.json$")
# every other file of one version: checkpoints (one file, multi-part, or v2 with a UUID), the
# version's checksum and log compactions starting at it
VERSIONED_RE = re.compile(r"^(\d{20})\.(?:checkpoint(?:\.[^/]*)?\.(?:parquet|json)|crc|\d{20}\.compacted\.json)$")
CHECKPOINT_RE = re.compile(r"^(\d{20})\.checkpoint(?:\.[^/]*)?\.parquet$")
LAST_CHECKPOINT = "_last_checkpoint"
DAMAGED = "_damaged"


@dataclass
class Damage:
    """What is wrong with one table's log, and the roll-back that repairs it."""

    table: str
    location: str
    head: int  # the newest version the log names (-1: none)
    problem: str = ""  # plain words, "" when the log reads
    keep: int | None = None  # the last readable version after the roll-back (None: none is left)
    set_aside: list[str] = field(default_factory=list)  # file names in _delta_log
    partitions: list[str] = field(default_factory=list)  # partition values the set-aside commits wrote
    rows: int | None = None  # rows the set-aside commits added, when their statistics say
    lost_versions: list[int] = field(default_factory=list)
    remedy: str = ""  # the fix, when no roll-back is one

    @property
    def healthy(self) -> bool:
        return not self.set_aside and not self.problem

    def fix(self) -> str:
        """The sentence that tells the user what repairs it."""
        command = f"`paperatlas store repair {self.table}`"
        if self.remedy:
            return self.remedy
        if self.keep is None:
            return (f"no version of it can be read; move {self.location} aside and re-run the venue-years "
                    "(`paperatlas run …`) to write it again")
        if not self.lost_versions:
            return (f"run {command} to set the damaged files aside (version {self.keep} reads without them; "
                    "nothing is lost)")
        return f"run {command} to roll it back to the last readable version ({self.keep})"

    def message(self) -> str:
        """One line: the table, where it is, what is wrong and the fix."""
        return f"{self.table} ({self.location}): {self.problem}; {self.fix()}"


def _version(name: str, pattern: re.Pattern) -> int | None:
    match = pattern.match(name)
    return int(match.group(1)) if match else None


def _listing(fs, log_dir: str) -> list[str]:
    import pyarrow.fs as pfs

    infos = fs.get_file_info(pfs.FileSelector(log_dir, allow_not_found=True, recursive=False))
    return sorted(info.base_name for info in infos if info.type == pfs.FileType.File)


def _read(fs, path: str) -> bytes:
    with fs.open_input_stream(path) as stream:
        return stream.read()


def _checkpoint_reads(fs, path: str) -> str:
    """"" when the checkpoint file is a Parquet file that reads, else why not."""
    import pyarrow.parquet as pq

    try:
        with fs.open_input_file(path) as handle:
            pq.read_table(handle)
        return ""
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError ...: any file that does not read
        return "not a readable Parquet file" if "parquet" in str(exc).lower() or "magic" in str(exc).lower() \
            else " ".join(str(exc).split())[:120] or type(exc).__name__


def _actions(data: bytes) -> tuple[list[dict], str]:
    """The commit's actions, and "" or why it cannot be read (then the actions before the damage)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], "not UTF-8"
    if not text.strip():
        return [], ""  # delta-rs reads an empty commit as one with no actions
    actions = []
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            action = json.loads(line)
        except ValueError:
            last = n == len(lines) - 1 and not text.endswith("\n")
            return actions, "truncated JSON" if last else f"not valid JSON on line {n + 1}"
        if not isinstance(action, dict):
            return actions, f"line {n + 1} is not a JSON object"
        actions.append(action)
    return actions, ""


def _lost(actions: list[dict]) -> tuple[set[str], int | None]:
    """The partition values a commit's adds and removes name, and the rows its adds hold."""
    partitions, rows = set(), 0
    for action in actions:
        for kind in ("add", "remove"):
            body = action.get(kind)
            if isinstance(body, dict):
                values = body.get("partitionValues") or {}
                partitions.update(str(v) for v in values.values() if v is not None)
                if kind == "add" and rows is not None:
                    try:
                        rows += int(json.loads(body.get("stats") or "{}")["numRecords"])
                    except (ValueError, KeyError, TypeError):
                        rows = None
    return partitions, rows


# what a cut commit still says about the partition it wrote: its files' folders, its add
# actions' partition values, the predicate in its commitInfo
CUT_PARTITION_RES = (re.compile(r'partition_key=([^/"]+)/'), re.compile(r'"partition_key":"((?:[^"\\]|\\.)*)"'),
                     re.compile(r"partition_key = '((?:[^']|'')*)'"))


def _cut_partitions(data: bytes) -> set[str]:
    import urllib.parse

    text = data.decode("utf-8", "replace")
    found = {urllib.parse.unquote(m) for m in CUT_PARTITION_RES[0].findall(text)}
    found.update(json.loads(f'"{m}"') for m in CUT_PARTITION_RES[1].findall(text))
    found.update(m.replace("''", "'") for m in CUT_PARTITION_RES[2].findall(text))
    return found


def _added_at(fs, log_dir: str, commits: dict[int, str], paths: set[str]) -> dict[str, int]:
    """The version whose commit added each of `paths` (newest first, as far as the commit files go)."""
    import urllib.parse

    added: dict[str, int] = {}
    for v in sorted(commits, reverse=True):
        for action in _actions(_read(fs, f"{log_dir}/{commits[v]}"))[0]:
            body = action.get("add")
            path = urllib.parse.unquote(str(body.get("path", ""))) if isinstance(body, dict) else None
            if path in paths and path not in added:
                added[path] = v
        if len(added) == len(paths):
            break
    return added


def diagnose(fs, table_path: str, table: str, location: str, missing=None) -> Damage:
    """What is wrong with the log of the table at `table_path` on `fs` (a pyarrow filesystem).
    `missing()`, asked when the log reads, gives the data files its newest version names that are
    not there: a roll-back to before the commit that added the first of them repairs it."""
    log_dir = f"{table_path}/_delta_log"
    names = _listing(fs, log_dir)
    commits = {v: n for n in names if (v := _version(n, COMMIT_RE)) is not None}
    versioned = [(v, n) for n in names if (v := _version(n, VERSIONED_RE)) is not None]
    head = max([*commits, *(v for v, _ in versioned)], default=-1)
    damage = Damage(table, location, head)
    if head < 0:
        return damage
    problems, bad_checkpoints = [], set()
    checkpoints: dict[int, list[str]] = {}
    for name in names:
        if (v := _version(name, CHECKPOINT_RE)) is not None:
            checkpoints.setdefault(v, []).append(name)
    base = -1  # the newest checkpoint that reads: readers start there
    for v in sorted(checkpoints, reverse=True):
        why = next((w for n in checkpoints[v] if (w := _checkpoint_reads(fs, f"{log_dir}/{n}"))), "")
        if not why:
            base = v
            break
        bad_checkpoints.update(checkpoints[v])
        problems.append(f"its checkpoint at version {v} is damaged ({why})")
    first_bad, lost_actions, cut, read_first = None, [], set(), True
    for v in range(base + 1, max(commits, default=base) + 1):
        if v not in commits:
            first_bad = v
            problems.insert(0, f"its commit log is damaged at version {v} (the commit file is missing)")
            break
        data = _read(fs, f"{log_dir}/{commits[v]}")
        actions, why = _actions(data)
        if why:
            first_bad, cut = v, _cut_partitions(data)
            lost_actions.extend(actions)
            problems.insert(0, f"its commit log is damaged at version {v} ({why})")
            break
    if first_bad is None and not problems and missing is not None and (gone := missing()):
        added = _added_at(fs, log_dir, commits, set(gone))
        shown = gone[0] + (f" and {len(gone) - 1} more" if len(gone) > 1 else "")
        if len(added) == len(gone):
            first_bad, read_first = min(added.values()), False
            problems.append(f"a data file that version {first_bad} added is missing ({shown})")
        else:
            problems.append(f"a data file it names is missing ({shown}), added before its oldest commit file")
            damage.remedy = ("restore the file from a backup, or move the table's folder aside and re-run the "
                             "venue-years (`paperatlas run …`) to write it again")
    if first_bad is not None:
        damage.keep = first_bad - 1 if first_bad > 0 and (base >= 0 or min(commits) == 0) else None
        damage.lost_versions = [v for v in sorted(commits) if v >= first_bad]
        for v in damage.lost_versions:
            if v != first_bad or not read_first:
                lost_actions.extend(_actions(_read(fs, f"{log_dir}/{commits[v]}"))[0])
        damage.set_aside = [n for v, n in sorted([*commits.items(), *versioned]) if v >= first_bad]
    elif not damage.remedy:
        damage.keep = max(commits, default=base) if base >= 0 or 0 in commits else None
    damage.set_aside = sorted(set(damage.set_aside) | bad_checkpoints, key=lambda n: (n[:20], n))
    if LAST_CHECKPOINT in names and damage.set_aside:
        try:
            pointed = int(json.loads(_read(fs, f"{log_dir}/{LAST_CHECKPOINT}"))["version"])
        except (ValueError, KeyError, TypeError):
            pointed = None
        if pointed is None or damage.keep is None or pointed > damage.keep or \
                any(_version(n, CHECKPOINT_RE) == pointed for n in bad_checkpoints):
            damage.set_aside.insert(0, LAST_CHECKPOINT)
    partitions, damage.rows = _lost(lost_actions)
    damage.partitions = sorted(partitions | cut)
    if cut or any(p.startswith("its commit log is damaged") and "missing" in p for p in problems):
        damage.rows = None  # what the cut or missing commit added is not known
    damage.problem = "; ".join(problems)
    return damage


def plan(damage: Damage) -> list[str]:
    """What `repair` does, one line each, for the user to read first."""
    if damage.healthy:
        return [f"{damage.table}: its log reads (version {damage.head}); nothing to repair"]
    lines = [f"{damage.table} ({damage.location}): {damage.problem}"]
    if damage.keep is None:
        return [*lines, damage.fix()]
    if damage.lost_versions:
        first, last = damage.lost_versions[0], damage.lost_versions[-1]
        span = f"version {first}" if first == last else f"versions {first}-{last}"
        lines.append(f"roll back to version {damage.keep}: {span} set aside"
                     + (" (every later version builds on it)" if first != last else ""))
        what = f"the partitions they wrote: {', '.join(damage.partitions)}" if damage.partitions else \
            "they wrote no partition it can name"
        if damage.rows is not None:
            what += f"; rows they added: {damage.rows}"
        lines.append(f"lost compared to the damaged head: {what}")
    else:
        lines.append(f"the table stays at version {damage.keep}: nothing is lost")
    lines.append(f"files moved (not deleted) to {damage.location}/{DAMAGED}/<time>/_delta_log/: "
                 + ", ".join(damage.set_aside))
    return lines


def repair(fs, table_path: str, damage: Damage, stamp: str) -> str:
    """Move `damage.set_aside` out of the log into `<table>/_damaged/<stamp>/_delta_log/`, the
    pointer and the newest files first (so a repair cut short leaves a log the next repair reads
    the same way); returns the folder. Copy, check the copy's size, then delete the original: a
    rename where the filesystem has one, and never a loss on S3, which has none."""
    import pyarrow.fs as pfs

    log_dir, target = f"{table_path}/_delta_log", f"{table_path}/{DAMAGED}/{stamp}/_delta_log"
    fs.create_dir(target, recursive=True)
    order = [n for n in damage.set_aside if n == LAST_CHECKPOINT] + \
        sorted((n for n in damage.set_aside if n != LAST_CHECKPOINT), reverse=True)
    for name in order:
        source, dest = f"{log_dir}/{name}", f"{target}/{name}"
        if isinstance(fs, pfs.LocalFileSystem):
            fs.move(source, dest)
            continue
        fs.copy_file(source, dest)
        if fs.get_file_info(dest).size != fs.get_file_info(source).size:
            raise OSError(f"{dest}: the copy of {source} is not whole; nothing was deleted")
        fs.delete_file(source)
    return target
