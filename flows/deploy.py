"""The scale-out mode's deployments: the same flows, schedules and limits the embedded runner
serves (`flows.serve.deployments`), deployed to a process work pool instead, with the code taken
from a directory on the worker machines (`LIANBAN_FLOW_SOURCE`, a checkout of this repository). No
image is built: a process worker runs each flow run as a new Python process in that directory."""
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments.runner import RunnerDeployment, deploy
from prefect.exceptions import ObjectNotFound
from prefect.runner.storage import LocalStorage

from domain.settings import get_settings
from flows.serve import deployments


def pool_deployments(source: Path) -> list[RunnerDeployment]:
    """`flows.serve.deployments()` re-pointed at `source`: entry points relative to it (e.g.
    `flows/watch.py:watch`), and a pull step that sets the flow run's working directory there."""
    source = source.resolve()
    storage = LocalStorage(path=str(source))
    result = []
    for deployment in deployments():
        path, _, function = deployment.entrypoint.rpartition(":")
        deployment.entrypoint = f"{(Path.cwd() / path).resolve().relative_to(source)}:{function}"
        deployment.storage = storage
        result.append(deployment)
    return result


def ensure_pool(name: str) -> None:
    """Create the process work pool if it does not exist (workers would, but deploying needs it first)."""
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=name, type="process", base_job_template=ProcessWorker.get_default_base_job_template(),
                description="lianban flows (scale-out mode)"))


def deploy_to_pool() -> list[str]:
    """Create or update every deployment on the work pool; returns their names. Idempotent.
    Call it outside an event loop (Prefect's `to_deployment` and `deploy` then run synchronously)."""
    settings = get_settings()
    ensure_pool(settings.work_pool)
    chosen = pool_deployments(settings.flow_source)
    deploy(*chosen, work_pool_name=settings.work_pool, build=False, push=False,
           print_next_steps_message=False, ignore_warnings=True)
    return [f"{d.flow_name}/{d.name}" for d in chosen]
