"""An open session page hears every stage of a real worker's run, in order, until done."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.tests.support import login_session
from config.asgi import application
from conftest import shared_c3d_dir
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


async def test_the_page_hears_the_new_file_then_each_stage_until_done(
    worker, session_of, alices_patient, alice
):
    session = await database_sync_to_async(session_of)(alices_patient)
    session_id = await database_sync_to_async(login_session)(alice)
    ws = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session.pk}/status/",
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={session_id}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=5))["recordings"] == []
    path = shared_c3d_dir() / "ghostly" / "Ghostly_Emg_20231004_13-18-43-0464.c3d"
    recording = await database_sync_to_async(recording_upload)(
        session=session,
        uploaded_file=SimpleUploadedFile(path.name, path.read_bytes()),
        user=alice,
    )
    events = []
    while not events or events[-1]["status"] not in ("done", "failed"):
        events.append(await ws.receive_json_from(timeout=20))
    await ws.disconnect()
    assert {e["recording"] for e in events} == {recording.pk}
    assert [e["stage"] for e in events] == ["pending", "processing", "read", "analysed", "done"]
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
