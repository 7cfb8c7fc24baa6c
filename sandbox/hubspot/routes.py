"""The URL rules of the emulated API; each endpoint names the handler method that answers it."""

from __future__ import annotations

from werkzeug.routing import Rule


def api_rules() -> list[Rule]:
    """Every CRM, owners, properties, pipelines and token-info route the product calls."""
    objects = "/crm/v3/objects/<object_type>"
    return [
        Rule(f"{objects}/<object_id>", methods=["GET"], endpoint="get_object"),
        Rule(f"{objects}/<object_id>", methods=["PATCH"], endpoint="update_object"),
        Rule(objects, methods=["POST"], endpoint="create_object"),
        Rule(f"{objects}/batch/read", methods=["POST"], endpoint="batch_read"),
        Rule(f"{objects}/batch/update", methods=["POST"], endpoint="batch_update"),
        Rule(f"{objects}/search", methods=["POST"], endpoint="search"),
        Rule("/crm/v3/owners/", methods=["GET"], endpoint="list_owners"),
        Rule("/crm/v3/owners/<owner_id>", methods=["GET"], endpoint="get_owner"),
        Rule("/crm/v3/properties/<object_type>", methods=["GET"], endpoint="list_properties"),
        Rule("/crm/v3/properties/<object_type>", methods=["POST"], endpoint="create_property"),
        Rule("/crm/v3/properties/<object_type>/groups", methods=["POST"],
             endpoint="create_group"),
        Rule("/crm/v3/properties/<object_type>/<name>", methods=["GET"],
             endpoint="get_property"),
        Rule("/crm/v3/pipelines/<object_type>", methods=["GET"], endpoint="list_pipelines"),
        Rule("/crm/v3/pipelines/<object_type>/<pipeline_id>", methods=["GET"],
             endpoint="get_pipeline"),
        Rule("/oauth/v2/private-apps/get/access-token-info", methods=["POST"],
             endpoint="token_info"),
    ]  # fmt: skip
