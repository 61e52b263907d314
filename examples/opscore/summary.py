"""Print a Locust --csv stats file as a summary table (used by make demo)."""
import csv
import sys

COLUMNS = [
    ("Type", "Type", 6), ("Name", "Name", 40), ("Request Count", "# reqs", 8),
    ("Failure Count", "# fails", 8), ("Median Response Time", "Med ms", 7),
    ("Average Response Time", "Avg ms", 7), ("95%", "p95 ms", 7), ("99%", "p99 ms", 7),
    ("Requests/s", "req/s", 7),
]


def cell(row, key):
    value = row.get(key, "")
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.2f}" if key in ("Average Response Time", "Requests/s") else f"{number:g}"


def main(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    print(" ".join(f"{title:<{width}}" for _, title, width in COLUMNS))
    for row in rows:
        print(" ".join(f"{cell(row, key):<{width}}" for key, _, width in COLUMNS))
    failures = sum(int(r["Failure Count"]) for r in rows if r["Name"] != "Aggregated")
    print(f"failures: {failures}")


if __name__ == "__main__":
    main(sys.argv[1])
