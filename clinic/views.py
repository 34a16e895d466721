from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from clinic import selectors


@login_required
def dashboard(request):
    return render(request, "clinic/dashboard.html", selectors.dashboard_for(request.user))
