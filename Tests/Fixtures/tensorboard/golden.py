"""Golden bytes for Loupe's hand-written TensorBoard encoding (Tests/LoupeLabTests/TensorBoardEncodingTests.swift).

Made once with TensorBoard's own generated protobuf classes and helpers (tensorboard 2.21.0,
protobuf 7.36.2) and pasted into the test; the tests never run Python for these. Run:
    .venv-tensorboard/bin/python Tests/Fixtures/tensorboard/golden.py
This protobuf's serializer does not sort map entries even with deterministic=True, so the session
start holds one hparam and the three kinds of google.protobuf.Value are checked on their own.
"""
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.summary.writer.record_writer import masked_crc32c
from google.protobuf import struct_pb2


def show(name, message):
    print(f"{name}: {message.SerializeToString(deterministic=True).hex()}")


for text in [b"", b"a", b"123456789", bytes(range(32))]:
    print(f"masked_crc32c({text!r}) = 0x{masked_crc32c(text):08X}")

show("fileVersion", event_pb2.Event(wall_time=1.5, file_version="brain.Event:2"))

scalars = event_pb2.Event(wall_time=2.25, step=7)
scalars.summary.value.add(tag="loss", simple_value=0.5)
scalars.summary.value.add(tag="accuracy", simple_value=0.0)
show("scalars", scalars)

histogram = event_pb2.Event(wall_time=3.0, step=300)
histogram.summary.value.add(tag="conv1.weight", histo=summary_pb2.HistogramProto(
    min=-1.0, max=2.0, num=3.0, sum=1.0, sum_squares=6.0, bucket_limit=[0.0, 1.0, 2.0], bucket=[1.0, 1.0, 1.0]))
show("histogram", histogram)

image = event_pb2.Event(wall_time=4.0, step=10)
image.summary.value.add(tag="filters/conv1.weight", image=summary_pb2.Summary.Image(
    height=3, width=2, colorspace=1, encoded_image_string=b"\x89PNG"))
show("image", image)

checkpoint = event_pb2.Event(wall_time=5.0, step=100, session_log=event_pb2.SessionLog(
    status=event_pb2.SessionLog.CHECKPOINT, checkpoint_path="checkpoint.safetensors"))
show("checkpoint", checkpoint)


def hparams_event(tag, data, step=0, wall_time=6.0):
    event = event_pb2.Event(wall_time=wall_time, step=step)
    event.summary.value.add(tag=tag, metadata=metadata.create_summary_metadata(data), tensor=metadata.NULL_TENSOR)
    return event


experiment = api_pb2.Experiment(name="cnn-optimizers", time_created_secs=6.0)
info = experiment.hparam_infos.add(name="optimizer.name", type=api_pb2.DATA_TYPE_STRING)
info.domain_discrete.extend(["adam", "adagrad"])
info = experiment.hparam_infos.add(name="optimizer.lr", type=api_pb2.DATA_TYPE_FLOAT64)
info.domain_discrete.extend([0.001, 0.0])
for tag, kind in [("test_accuracy", api_pb2.DATASET_VALIDATION), ("loss", api_pb2.DATASET_TRAINING),
                  ("accuracy", api_pb2.DATASET_TRAINING)]:
    experiment.metric_infos.add(name=api_pb2.MetricName(tag=tag), dataset_type=kind)
show("experiment", hparams_event(metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment)))

start = plugin_data_pb2.SessionStartInfo(group_name="optimizer.name=adam, optimizer.lr=0.001", start_time_secs=6.0)
start.hparams["optimizer.name"].string_value = "adam"
show("sessionStart", hparams_event(metadata.SESSION_START_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_start_info=start)))

end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS, end_time_secs=7.0)
show("sessionEnd", hparams_event(metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=end), step=300))

for name, value in [("number", struct_pb2.Value(number_value=0.001)), ("zero", struct_pb2.Value(number_value=0.0)),
                    ("string", struct_pb2.Value(string_value="adam")), ("false", struct_pb2.Value(bool_value=False))]:
    show(f"value.{name}", value)
