"""Write the KEDA ScaledObject and TriggerAuthentication JSON Schemas that kubeconform validates against.

They come from KEDA's own CRDs as packaged on PyPI by `cloudcoil-models-keda` (pydantic models generated from
the CRDs), made strict: an object that lists its properties refuses any other, as a typo in a manifest would be
silently pruned by the API server. Regenerate (no project environment needed):

    uv run --no-project --python 3.11 --with cloudcoil-models-keda==2.16.1.0 \\
        python deploy/k8s/schemas/gen_keda_schemas.py
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from cloudcoil.models.keda import v1alpha1  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent
KINDS = {"ScaledObject": v1alpha1.ScaledObject, "TriggerAuthentication": v1alpha1.TriggerAuthentication}


def _strict(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


def schema(kind: str, model: Any) -> dict[str, Any]:
    """The strict JSON Schema of one KEDA kind."""
    out: dict[str, Any] = model.model_json_schema(by_alias=True)
    _strict(out)
    out["properties"]["apiVersion"] = {"const": "keda.sh/v1alpha1"}
    out["properties"]["kind"] = {"const": kind}
    out["required"] = sorted({*out.get("required", []), "apiVersion", "kind", "metadata", "spec"})
    out["$comment"] = (
        f"KEDA {kind} (keda.sh/v1alpha1) from cloudcoil-models-keda {metadata.version('cloudcoil-models-keda')} "
        "(generated from KEDA's CRDs), strict; written by gen_keda_schemas.py"
    )
    return out


def main() -> None:
    """Write one file per kind, named as kubeconform looks them up."""
    for kind, model in KINDS.items():
        path = OUT / f"{kind.lower()}-keda-v1alpha1.json"
        path.write_text(json.dumps(schema(kind, model), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
