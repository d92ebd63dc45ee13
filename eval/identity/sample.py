"""Draw the identity-labelling sample of NCPPolicies notices.

Sort all docids by sha256("identity-sample:" + docid) and take the first 62 whose
md5(docid) starts with 0-7 (the training half) and the first 62 whose md5 starts
with 8-f (the other half). Prints the 124 docids, training half first.
"""

import hashlib
import sys
from pathlib import Path

NOTICES = Path(__file__).resolve().parents[3] / "shared" / "external" / "ncppolicies" / "notices"
PER_HALF = 62


def sample(docids: list[str], per_half: int = PER_HALF) -> list[str]:
    """Return the first `per_half` docids of each md5 half, in sha256 order."""
    ordered = sorted(docids, key=lambda d: hashlib.sha256(("identity-sample:" + d).encode()).hexdigest())
    low = [d for d in ordered if hashlib.md5(d.encode()).hexdigest()[0] in "01234567"][:per_half]
    high = [d for d in ordered if hashlib.md5(d.encode()).hexdigest()[0] not in "01234567"][:per_half]
    return low + high


def main(notices: Path = NOTICES) -> None:
    """Print the sample, one docid per line."""
    docids = [p.stem for p in notices.glob("*.txt")]
    for docid in sample(docids):
        sys.stdout.write(docid + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTICES)
