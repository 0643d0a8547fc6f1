"""The server event types the APIs declare: what "recognised" means to the reference.

A server event whose ``type`` is not here is reported as ``server.unrecognized_event``
with all its fields. The lists are the unions of the official SDKs' own types, which agree:
openai-python 3.57.0 ``openai.types.realtime.RealtimeServerEvent``,
``openai.types.responses.ResponseStreamEvent`` and ``ResponsesServerEvent`` (the websocket
adds the three ``response.steer.*``); openai-node 7.60.0 ``RealtimeServerEvent``,
``ResponseStreamEvent`` and ``ResponsesServerEvent`` in resources/{realtime,responses}/*.d.ts.
An SDK driver uses its SDK's own notion instead (its parsed type, its declarations).
"""

from __future__ import annotations


__all__ = ["REALTIME_SERVER_EVENTS", "RESPONSES_STREAM_EVENTS", "RESPONSES_WS_EVENTS", "recognised"]

REALTIME_SERVER_EVENTS = frozenset({
    "conversation.created", "conversation.item.added", "conversation.item.created", "conversation.item.deleted",
    "conversation.item.done", "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.delta", "conversation.item.input_audio_transcription.failed",
    "conversation.item.input_audio_transcription.segment", "conversation.item.retrieved",
    "conversation.item.truncated", "error", "input_audio_buffer.cleared", "input_audio_buffer.committed",
    "input_audio_buffer.dtmf_event_received", "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped", "input_audio_buffer.timeout_triggered", "mcp_list_tools.completed",
    "mcp_list_tools.failed", "mcp_list_tools.in_progress", "output_audio_buffer.cleared",
    "output_audio_buffer.started", "output_audio_buffer.stopped", "rate_limits.updated",
    "response.content_part.added", "response.content_part.done", "response.created", "response.done",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "response.mcp_call.completed", "response.mcp_call.failed", "response.mcp_call.in_progress",
    "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done", "response.output_audio.delta",
    "response.output_audio.done", "response.output_audio_transcript.delta", "response.output_audio_transcript.done",
    "response.output_item.added", "response.output_item.done", "response.output_text.delta",
    "response.output_text.done", "session.created", "session.updated",
})  # fmt: skip

RESPONSES_STREAM_EVENTS = frozenset({
    "error", "response.audio.delta", "response.audio.done", "response.audio.transcript.delta",
    "response.audio.transcript.done", "response.code_interpreter_call.completed",
    "response.code_interpreter_call.in_progress", "response.code_interpreter_call.interpreting",
    "response.code_interpreter_call_code.delta", "response.code_interpreter_call_code.done",
    "response.compaction.compacting", "response.completed", "response.content_part.added",
    "response.content_part.done", "response.created", "response.custom_tool_call_input.delta",
    "response.custom_tool_call_input.done", "response.failed", "response.file_search_call.completed",
    "response.file_search_call.in_progress", "response.file_search_call.searching",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "response.image_generation_call.completed", "response.image_generation_call.generating",
    "response.image_generation_call.in_progress", "response.image_generation_call.partial_image",
    "response.in_progress", "response.incomplete", "response.mcp_call.completed", "response.mcp_call.failed",
    "response.mcp_call.in_progress", "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done",
    "response.mcp_list_tools.completed", "response.mcp_list_tools.failed", "response.mcp_list_tools.in_progress",
    "response.output_item.added", "response.output_item.done", "response.output_text.annotation.added",
    "response.output_text.delta", "response.output_text.done", "response.queued",
    "response.reasoning_summary_part.added", "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
    "response.reasoning_text.delta", "response.reasoning_text.done", "response.refusal.delta",
    "response.refusal.done", "response.shell_call_command.added", "response.shell_call_command.delta",
    "response.shell_call_command.done", "response.shell_call_output_content.delta",
    "response.shell_call_output_content.done", "response.web_search_call.completed",
    "response.web_search_call.in_progress", "response.web_search_call.searching",
})  # fmt: skip

RESPONSES_WS_EVENTS = RESPONSES_STREAM_EVENTS | {"response.steer.accepted", "response.steer.failed", "response.steer.pending"}


def recognised(api: str, transport: str, event_type: str) -> bool:
    """Whether the API declares this server event type on this transport."""
    if api == "realtime":
        return event_type in REALTIME_SERVER_EVENTS
    return event_type in (RESPONSES_WS_EVENTS if transport == "websocket" else RESPONSES_STREAM_EVENTS)
