"""mmqa: cited question answering over a survey of multimodal foundation models and the papers it cites."""

__version__ = "0.1.0"
