"""The image's tests run only from `make image-test` (they need `make image`'s root tree,
root and qemu-user-static); `make test` does not collect them."""

import os

collect_ignore_glob = [] if os.environ.get("MINIPBX_IMAGE_TEST") == "1" else ["test_*.py"]
