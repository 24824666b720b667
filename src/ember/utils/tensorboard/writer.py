"""``SummaryWriter``: the training-loop side of TensorBoard (``torch.utils.tensorboard.writer``).

Events go to ``events.out.tfevents.*`` files through the ``tensorboard`` package's
``EventFileWriter``, whose background thread writes them, so logging does not stall training: an
``add_*`` call only queues an event; the thread writes the queue every ``flush_secs`` seconds, when
``max_queue`` events are pending, on ``flush()`` and on ``close()``.
"""
import os
import time

from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import _media
from . import summary as _summary
from ._convert import figure_to_image, make_np

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes events and summaries to one new event file in ``log_dir``, from a background thread.

    Args:
        log_dir: folder of the event file (created if missing).
        max_queue: pending events that force a write.
        flush_secs: seconds between writes of the pending events.
        filename_suffix: appended to the event file's name.
    """

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        """The folder the event file is in."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """Queue an ``Event`` protobuf, stamped with ``walltime`` (default now) and ``step`` if given."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        """Queue a ``Summary`` protobuf wrapped in an event."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None):
        """Queue a ``(GraphDef, RunMetadata)`` pair: the graph, then its run metadata tagged ``step1``."""
        graph, run_metadata = graph_profile
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        tagged = TaggedRunMetadata(tag="step1", run_metadata=run_metadata.SerializeToString())
        self.add_event(Event(tagged_run_metadata=tagged), None, walltime)

    def flush(self):
        """Write every pending event to disk now."""
        self.event_writer.flush()

    def close(self):
        """Write the pending events and close the file (``reopen`` starts a new one)."""
        self.event_writer.close()

    def reopen(self):
        """After ``close``, continue in a new event file in the same folder."""
        self.event_writer.reopen()


class SummaryWriter:
    """Log scalars, histograms, images, text, graphs, embeddings and more for TensorBoard.

    Args:
        log_dir: the run's folder; default ``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``.
        comment: appended to the default folder name (ignored when ``log_dir`` is given).
        purge_step: when a crashed run restarts from step T, pass T: TensorBoard hides the events of
            earlier files at steps >= T.
        max_queue: pending events that force a write to disk.
        flush_secs: seconds between writes of the pending events (default two minutes).
        filename_suffix: appended to the names of the event files.

    Use it as a context manager, or call ``close()`` at the end, so that every event reaches the disk.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        if not log_dir:
            import socket
            from datetime import datetime
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _summary.default_bins()

    def _get_file_writer(self):
        """The main FileWriter, created again after ``close()``."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step,
                                                 session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def _add(self, summary, global_step=None, walltime=None):
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def get_logdir(self):
        """The folder the event files are written to."""
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (a float, or a one-element tensor or array) under ``tag`` at ``global_step``.

        ``new_style`` stores it as a tensor (float64 with ``double_precision``) rather than a simple value.
        """
        self._add(_summary.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision),
                  global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers in one chart ``main_tag``: each key of ``tag_scalar_dict`` is written by its
        own writer in the sub-folder ``<log_dir>/<main_tag>_<key>`` (a ``/`` in main_tag becomes ``_``)."""
        walltime = time.time() if walltime is None else walltime
        logdir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            folder = logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(folder)
            if writer is None:
                writer = self.all_writers[folder] = FileWriter(folder, self.max_queue, self.flush_secs,
                                                               self.filename_suffix)
            writer.add_summary(_summary.scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        """Log all values of ``tensor`` (for TensorBoard's tensor plugin)."""
        self._add(_summary.tensor_proto(tag, tensor), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """Log the distribution of ``values`` (tensor or array).

        ``bins``: ``"tensorflow"`` (TensorBoard's exponential default edges), or anything
        ``numpy.histogram`` takes (a count, edges, ``"auto"``, ``"fd"``...); ``max_bins`` merges bins.
        """
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._add(_summary.histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        """Log a histogram already computed: its statistics, bucket right edges and counts."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._add(_summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts),
                  global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image. ``img_tensor``: tensor or array laid out as ``dataformats`` (``CHW``, ``HWC``,
        ``HW``...); uint8 values are 0..255, float values 0..1 (scaled by 255, clipped)."""
        self._add(_summary.image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images (``NCHW`` or ``NHWC``...), tiled 8 per row into one image."""
        self._add(_summary.image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats="CHW", labels=None):
        """Log an image with red boxes: ``box_tensor`` (K, 4) holds ``x_min, y_min, x_max, y_max`` in pixels;
        ``labels`` (one string per box; ignored if the count differs) are written on the boxes."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != box_tensor.shape[0]:
                labels = None
        self._add(_media.image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats,
                                     labels=labels), global_step, walltime)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Log a video: ``vid_tensor`` (N, T, C, H, W), uint8 or float in [0, 1]; the N clips play side by
        side. Stored as an animated GIF (written with Pillow)."""
        self._add(_media.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log a sound: one channel of samples in [-1, 1] (shape (L,) or (1, L)) at ``sample_rate`` Hz."""
        self._add(_media.audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime)

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None, walltime=None):
        """Log a 3-D mesh or point cloud: ``vertices`` (B, N, 3) coordinates, ``colors`` (B, N, 3) per vertex,
        ``faces`` (B, F, 3) vertex indices; ``config_dict`` sets the Three.js camera, lights and material."""
        self._add(_media.mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure (or a list of them, tiled) rendered to an image; ``close`` closes it."""
        if isinstance(figure, list):
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats="CHW")

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a string (TensorBoard renders it as Markdown)."""
        self._add(_summary.text(tag, text_string), global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """Log one run's hyperparameters and final metrics for TensorBoard's HParams tab.

        They go to the sub-folder ``run_name`` (default: the current time) of the log folder, with
        each metric also logged as a scalar there.

        Args:
            hparam_dict: name -> bool, str, int, float, one-element tensor or None.
            metric_dict: name -> number; use names not logged with add_scalar elsewhere.
            hparam_domain_discrete: name -> list of every value that hyperparameter can take.
            run_name: the sub-folder's name.
            global_step: the step recorded with them.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        experiment, start, end = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=logdir) as w:
            for s in (experiment, start, end):
                w.file_writer.add_summary(s, global_step)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Log the graph of one forward of ``model`` on ``input_to_model`` (a tensor or tuple of tensors):
        its ops grouped by the submodules that ran them, the parameters, inputs and outputs.

        The model runs once in eval mode (then goes back to its mode), plus one backward that leaves
        ``.grad`` untouched. ``use_strict_trace`` is accepted for PyTorch compatibility (there is no tracer).
        """
        from ._graph import graph
        self._get_file_writer().add_graph(graph(model, input_to_model, verbose))

    @staticmethod
    def _encode(tag):
        return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """Log points for TensorBoard's embedding projector.

        Args:
            mat: (N, D) tensor or array, one row per point.
            metadata: N labels (or N rows of columns, with ``metadata_header``).
            label_img: (N, C, H, W) thumbnails in [0, 1], shown at the points.
            global_step: the step (default 0); files go to ``<log_dir>/<step:05d>/<tag>/``.
            tag: the embedding's name.
        """
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

        from . import _embedding
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        logdir = self._get_file_writer().get_logdir()
        folder = os.path.join(logdir, subdir)
        if os.path.exists(folder):
            if not os.path.isdir(folder):
                raise NotADirectoryError(f"Path: `{folder}` exists, but is a file. Cannot proceed.")
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            os.makedirs(folder)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _embedding.write_metadata(metadata, folder, metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            _embedding.write_sprite(label_img, folder)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        _embedding.write_tsv_matrix(mat, folder)
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend(
            [_embedding.embedding_info(tag, global_step, subdir, metadata, label_img)])
        with open(os.path.join(logdir, "projector_config.pbtxt"), "w", encoding="utf-8") as f:
            f.write(text_format.MessageToString(self._projector_config))

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        """Log a precision-recall curve: binary ``labels`` against ``predictions`` (probabilities in [0, 1])
        at up to 127 thresholds; ``weights`` weighs each example."""
        self._add(_summary.pr_curve(tag, make_np(labels), make_np(predictions), num_thresholds, weights),
                  global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
                         weights=None, walltime=None):
        """Log a precision-recall curve from counts, precision and recall already computed per threshold."""
        self._add(_summary.pr_curve_raw(tag, true_positive_counts, false_positive_counts, true_negative_counts,
                                        false_negative_counts, precision, recall, num_thresholds, weights),
                  global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """One custom chart ``title`` (in ``category``) that overlays the scalars ``tags``."""
        self._add(_summary.custom_scalars({category: {title: ["Multiline", tags]}}))

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """One custom chart of a value and its lower and upper bound: ``tags`` = [value, lower, upper]."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self._add(_summary.custom_scalars({category: {title: ["Margin", tags]}}))

    def add_custom_scalars(self, layout):
        """Lay out the Custom Scalars tab: ``{category: {title: ["Multiline", [tags]] or
        ["Margin", [value, lower, upper]]}}`` (tags may be regular expressions)."""
        self._add(_summary.custom_scalars(layout))

    def flush(self):
        """Write every pending event of every writer to disk now."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self):
        """Write the pending events and close every file; a later ``add_*`` starts new files."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
