"""Forms of the HR imports: uploading a CSV file, and confirming its preview."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import HiddenField
from wtforms.validators import DataRequired

from ..forms import PortalForm
from ..services.csvfiles import ALLOWED_EXTENSIONS, MAX_FILE_BYTES


class CsvUploadForm(PortalForm):
    """One CSV file. Its name must end in .csv or .txt and it must be at most 2 MB; what is
    inside is checked when it is read (text, UTF-8, columns), since browsers send all sorts
    of content types for CSV files (Excel's is ``application/vnd.ms-excel``)."""

    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a CSV file to upload.")),
            FileAllowed(
                ALLOWED_EXTENSIONS,
                _l("Upload a CSV file: its name must end in .csv or .txt."),
            ),
            FileSize(
                MAX_FILE_BYTES,
                message=_l("The file is larger than 2 MB. Split it into smaller files."),
            ),
        ],
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )


class ImportConfirmForm(PortalForm):
    """The signed rows of a preview, sent back to apply them."""

    payload = HiddenField(validators=[DataRequired()])
