#!/usr/bin/env python3
"""Prints lit's xunit results as one line: 'N passed, N failed, N skipped'.

Skipped tests (for example GPU tests on a machine without a GPU) are listed
by name so that a reader sees what did not run. Exits 1 if anything failed
or if no test ran at all.
"""
import sys
import xml.etree.ElementTree as ET


def main(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        print(f"summarize_lit: cannot read {path}: {error}")
        print("0 passed, 1 failed, 0 skipped")
        return 1
    passed = failed = skipped = 0
    skipped_names = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}/{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
            skipped_names.append(name)
        else:
            passed += 1
    for name in skipped_names:
        print(f"skipped: {name}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
