"""Send the rows of a CSV file to the running service as traffic: a demo of monitoring, or a
rehearsal before go-live. Cells go as an upstream system would send them, bad ones included.

    python monitoring/replay.py FILE --service http://127.0.0.1:3000 [--batch 100]

Each row's request id is its identifier (the schema's id column) when the file has one, else
<file>-<line>, so outcomes can be recorded against it later (monitoring/monitor.py --labels).
A batch that the service refuses is sent again row by row, so only the bad rows are refused.
"""

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "src")]

from contract import SCHEMA, json_cell  # noqa: E402

REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # what the service takes as an id


def post(service: str, route: str, body: dict) -> tuple[int, object]:
    request = urllib.request.Request(f"{service.rstrip('/')}/{route}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def requests_of(path: Path) -> list[dict]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    missing = [n for n in SCHEMA.features if n not in frame.columns]
    if missing:
        raise SystemExit(f"{path.name} has no column {', '.join(map(repr, missing))}: it must hold the features")
    out = []
    for position, row in enumerate(frame.to_dict("records")):
        request_id = str(row.get(SCHEMA.id) or "") if SCHEMA.id else ""
        if not REQUEST_ID.fullmatch(request_id):  # ids with spaces or accents: the file's line
            request_id = f"{path.stem}-{position + 2}"
        out.append({"request_id": request_id,
                    "features": {n: json_cell(row[n], SCHEMA.by_name[n]) for n in SCHEMA.features}})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--service", default="http://127.0.0.1:3000")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    requests = requests_of(args.file)
    answered, refused, first_error = 0, 0, None
    for start in range(0, len(requests), args.batch):
        batch = requests[start:start + args.batch]
        status, body = post(args.service, "predict_batch", {"requests": batch})
        if status == 200:
            answered += len(batch)
            continue
        for one in batch:  # find the bad rows: only they are refused
            status, body = post(args.service, "predict", one)
            if status == 200:
                answered += 1
            else:
                refused += 1
                first_error = first_error or f"{one['request_id']}: {body.get('error', body)}"
    print(f"replay: {answered:,} answered, {refused:,} refused of {len(requests):,} rows from {args.file.name}"
          + (f"; first refusal: {first_error}" if first_error else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
