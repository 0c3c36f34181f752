"""Field types several JSON bodies share (row ids, which the web forms use too, are `httpkit.ids`)."""
from pydantic import StrictFloat, StrictInt, StrictStr

# An amount as JSON carries it; strict, so that `true` is refused rather than read as 1 yuan.
Amount = StrictStr | StrictInt | StrictFloat
