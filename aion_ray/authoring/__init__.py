"""The authoring API's definitions: @workflow, @activity and their options."""
