"""Forms of the analysis pages: the stateless analysis ("try a file")."""

from __future__ import annotations

from django import forms


class SingleC3dForm(forms.Form):
    """One C3D file (the stateless analysis)."""

    file = forms.FileField(
        label="C3D recording", widget=forms.ClearableFileInput(attrs={"accept": ".c3d"})
    )
