"""CDK entry point (`npx cdk synth`, `npx cdk deploy -c stage=prod ...`): see docs/deploy.md."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import ContextError, config_from_context
from infra.stack import JwtAuthStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    config = config_from_context(app.node.try_get_context)
    JwtAuthStack(
        app,
        f"JwtAuth-{config.stage}",
        config=config,
        description=f"Serverless JWT authentication ({config.stage})",
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def main() -> None:
    try:
        app = build_app()
    except (ContextError, FileNotFoundError, KeyError) as error:
        print(f"synthesis stopped: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    app.synth()


if __name__ == "__main__":
    main()
