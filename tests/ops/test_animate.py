"""Local animate: a playable H.264 clip whose first frame is the still and whose motion is smooth."""

from __future__ import annotations

import itertools

import av
import cv2
import numpy as np
import pytest
from skimage import data as skdata
from skimage.metrics import peak_signal_noise_ratio as psnr

from routeyard.errors import PipelineError
from routeyard.ops.animate import cover
from routeyard.pipeline.spec import parse

MOVES = ["dolly-in", "pan-left", "pan-right", "orbit", "float"]


def decode(path):
    """(stream facts, frames) read back the way a player would."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        facts = {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "fps": float(stream.average_rate),
            "frames": stream.frames,
            "duration": float(stream.duration * stream.time_base),
            "format": container.format.name,
        }
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return facts, frames


def flow_per_frame(frames):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    return np.array(
        [np.linalg.norm(dis.calc(a, b, None), axis=2).mean() for a, b in itertools.pairwise(grey)]
    )


def shift_x(a, b):
    """Median horizontal motion from a to b, in pixels (positive = to the right)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)
    return float(np.median(flow[..., 0]))


@pytest.fixture(scope="module")
def still():
    return skdata.astronaut()


@pytest.mark.parametrize("move", MOVES)
def test_clip_facts_first_frame_and_smooth_motion(run_step, still, move):
    (path,) = run_step(
        still,
        f"{{op: animate, input: a, camera: {move}, seconds: 1.5, fps: 16, width: 320, height: 180}}",
    )
    facts, frames = decode(path)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert facts["format"].startswith("mov,mp4")
    assert facts["size"] == (320, 180) and facts["fps"] == 16
    assert facts["frames"] == 24 and len(frames) == 24
    assert facts["duration"] == pytest.approx(1.5, abs=0.07)

    assert psnr(cover(still, (320, 180)), frames[0]) > 35  # frame 0 is the still
    speed = flow_per_frame(frames)  # mean optical-flow magnitude, pixels per frame
    assert speed.sum() > 5, "no visible motion"
    assert speed.max() < 0.02 * 320, "motion too fast to stay coherent"
    # a jerk is a step in speed that lasts: a 3-frame running median keeps such a step
    # and drops a one-frame wobble of the flow estimate (which flipped this check
    # between OpenCV builds on the orbit's turnaround)
    steady = np.array([np.median(speed[max(0, i - 1) : i + 2]) for i in range(len(speed))])
    assert np.abs(np.diff(steady)).max() < 0.35 * speed.max(), f"a jerk in the motion: {speed}"
    assert speed[0] < 0.3 * speed.max() and speed[-1] < 0.3 * speed.max(), "no ease in/out"


def test_pans_move_the_background_the_right_way(run_step, still):
    step = "{{op: animate, input: a, camera: {}, seconds: 1, fps: 12, width: 320, height: 320, intensity: 1}}"
    (left,) = run_step(still, step.format("pan-left"))
    (right,) = run_step(still, step.format("pan-right"))
    _, lf = decode(left)
    _, rf = decode(right)
    assert shift_x(lf[0], lf[-1]) > 2  # the camera goes left, the scene slides right
    assert shift_x(rf[0], rf[-1]) < -2


def test_subject_moves_more_than_the_background(run_step, still):
    """The parallax itself: on a pan, the subject's shift exceeds the wall's."""
    (path,) = run_step(
        still, "{op: animate, input: a, camera: pan-right, seconds: 1, fps: 12, intensity: 1}"
    )
    _, frames = decode(path)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    a, b = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames[5:7])  # mid-move, fastest
    dx = dis.calc(a, b, None)[..., 0]
    wall, suit = float(np.median(dx[:200, 400:])), float(np.median(dx[330:480, 80:300]))
    assert suit < wall < 0 and abs(suit) > 1.5 * abs(wall), (suit, wall)


def test_matte_from_remove_background_is_used(run_step, still):
    extra = "  cut: {op: remove_background, input: a}\n"
    (path,) = run_step(still, "{op: animate, input: cut, seconds: 0.5, fps: 8}", extra=extra)
    facts, frames = decode(path)
    assert facts["size"] == (512, 512) and len(frames) == 4
    assert psnr(still, frames[0]) > 35


def test_unknown_camera_move_is_a_clear_spec_error(tmp_path):
    text = "steps:\n  a: {op: import, source: 'sample:astronaut'}\n  b: {op: animate, input: a, camera: zoom-out}\n"
    with pytest.raises(PipelineError) as err:
        parse(text, base_dir=tmp_path)
    message = str(err.value)
    assert "camera" in message and "dolly-in" in message and ":3" in message


def test_a_video_is_refused_as_the_still(run_step, fail_step, still, tmp_path, home):
    (clip,) = run_step(
        still, "{op: animate, input: a, seconds: 0.25, fps: 8, width: 64, height: 64}"
    )
    from routeyard import api

    (tmp_path / "clip.mp4").write_bytes(clip.read_bytes())
    text = "steps:\n  v: {op: import, source: clip.mp4}\n  b: {op: animate, input: v}\n"
    run = api.run_pipeline(parse(text, base_dir=tmp_path), home=home)
    b = run["steps"][1]
    assert b["status"] == "failed" and "video where an image is expected" in b["error"]
